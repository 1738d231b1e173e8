package dev.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Hidden: the training runs the launcher (and the package build) record the JDK's AOT caches from, in a throwaway
 * root. The full one runs what short commands load (picocli, the registry, every provider's probe, a vfs layer's life,
 * the error path) and leaves two layers; {@code --quick} then runs only what {@link QuickLine} takes (exists,
 * layers) on them, for a cache of its own: the JVM loads every class of a cache at start, and the full cache's ~1,000
 * classes more (picocli, FFM) cost those commands ~50 ms of CPU they never use. Not --json in the full training:
 * Jackson's ~500 classes would cost every plain command ~15% of its start to speed up the JSON ones.
 */
@Command(name = "__train-aot", hidden = true)
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0")
    Path scratch;

    @Option(names = "--serve", description = "Train the servers' cache instead: snapshotter serve, driven by a client.")
    boolean serve;

    @Override
    public Integer call() throws Exception {
        if (serve) return ServeTraining.run(scratch);
        List<List<String>> runs = new ArrayList<>();
        runs.add(List.of("drivers"));
        runs.add(List.of("-s", "vfs", "create", "train"));
        runs.add(List.of("-s", "vfs", "create-rw", "train-rw", "--parent", "train"));
        for (String cmd : List.of("exists", "mount", "unmount", "metadata")) runs.add(List.of("-s", "vfs", cmd, "train-rw"));
        runs.add(List.of("-s", "vfs", "status"));
        runs.add(List.of("-s", "vfs", "layers", "--tree"));
        runs.add(List.of("-s", "vfs", "exists", "nosuch"));
        runs.add(List.of("-s", "vfs", "mount", "nosuch"));
        runs.add(List.of("-s", "vfs", "create", "train-gone", "--parent", "train"));
        runs.add(List.of("-s", "vfs", "remove", "train-gone"));
        runs.add(List.of("nosuch-command"));
        return train(scratch, runs);
    }

    /** {@code __train-aot --quick SCRATCH}, which {@link QuickLine} runs without picocli, or picocli would be in the cache. */
    static int trainQuick(Path scratch) throws java.io.IOException {
        List<List<String>> runs = new ArrayList<>();
        for (String id : List.of("train", "train-rw", "nosuch")) runs.add(List.of("-s", "vfs", "exists", id));
        runs.add(List.of("exists", "train"));
        runs.add(List.of("-s", "vfs", "--json", "exists", "train-rw"));
        runs.add(List.of("-s", "vfs", "layers"));
        runs.add(List.of("-s", "vfs", "--json", "ls"));
        return train(scratch, runs);
    }

    private static int train(Path scratch, List<List<String>> runs) throws java.io.IOException {
        Path root = Files.createDirectories(scratch.resolve("root"));
        PrintWriter sink = new PrintWriter(new StringWriter());
        for (List<String> r : runs) {
            List<String> args = new ArrayList<>(List.of("--root", root.toString()));
            args.addAll(r);
            Main.run(args.toArray(String[]::new), sink, sink);
        }
        return Main.OK;
    }
}
