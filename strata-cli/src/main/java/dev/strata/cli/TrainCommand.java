package dev.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Hidden: the training run the launcher (and the package build) records the JDK's AOT cache from. It runs what
 * short commands load (picocli, the registry, every provider's probe, a vfs layer's life, the error path) in a
 * throwaway root. Not --json: the JVM loads every class of the cache at start, and Jackson's ~500 classes would
 * cost every plain command ~15% of its start to speed up the JSON ones.
 */
@Command(name = "__train-aot", hidden = true)
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0")
    Path scratch;

    @Override
    public Integer call() throws Exception {
        Path root = Files.createDirectories(scratch.resolve("root"));
        PrintWriter sink = new PrintWriter(new StringWriter());
        List<List<String>> runs = new ArrayList<>();
        runs.add(List.of("drivers"));
        runs.add(List.of("-s", "vfs", "create", "train"));
        runs.add(List.of("-s", "vfs", "create-rw", "train-rw", "--parent", "train"));
        for (String cmd : List.of("exists", "mount", "unmount", "metadata")) runs.add(List.of("-s", "vfs", cmd, "train-rw"));
        runs.add(List.of("-s", "vfs", "status"));
        runs.add(List.of("-s", "vfs", "layers"));
        runs.add(List.of("-s", "vfs", "exists", "nosuch"));
        runs.add(List.of("-s", "vfs", "mount", "nosuch"));
        runs.add(List.of("-s", "vfs", "remove", "train-rw"));
        runs.add(List.of("-s", "vfs", "remove", "train"));
        runs.add(List.of("nosuch-command"));
        for (List<String> r : runs) {
            List<String> args = new ArrayList<>(List.of("--root", root.toString()));
            args.addAll(r);
            Main.run(args.toArray(String[]::new), sink, sink);
        }
        return Main.OK;
    }
}
