package dev.strata.cli;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Hidden: the training run the launcher records the JDK's AOT cache from. It touches what short commands load
 * (picocli, the registry, every provider's probe, a vfs layer's life, JSON output) in a throwaway root.
 */
@Command(name = "__train-aot", hidden = true)
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0")
    Path scratch;

    @Override
    public Integer call() throws Exception {
        Path root = Files.createDirectories(scratch.resolve("root"));
        PrintWriter sink = new PrintWriter(new StringWriter());
        Main.run(new String[]{"--root", root.toString(), "drivers"}, sink, sink);
        Main.run(new String[]{"--root", root.toString(), "--json", "drivers"}, sink, sink);
        DriverRegistry registry = DriverRegistry.load();
        StorageDriver vfs = registry.open(registry.require("vfs"), root, List.of());
        vfs.create("train", null, CreateOptions.NONE);
        for (String cmd : List.of("exists", "mount", "unmount", "metadata")) {
            Main.run(new String[]{"--root", root.toString(), "-s", "vfs", cmd, "train"}, sink, sink);
        }
        Main.run(new String[]{"--root", root.toString(), "-s", "vfs", "status"}, sink, sink);
        Main.run(new String[]{"--root", root.toString(), "-s", "vfs", "exists", "nosuch"}, sink, sink);
        Main.run(new String[]{"--root", root.toString(), "-s", "vfs", "remove", "train"}, sink, sink);
        return Main.OK;
    }
}
