package dev.strata.cli;

import dev.strata.api.Change;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.BufferedInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Moving layers in and out: changes, diff-size, diff, apply. */
final class DiffCommands {
    private DiffCommands() {
    }

    abstract static class DiffCommand implements Callable<Integer> {
        @ParentCommand
        StrataCommand top;
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "ID", description = "Layer id.")
        String id;
        @Option(names = {"-p", "--parent"}, description = "Compare against this parent (default: the whole layer).")
        String parent;

        StorageDriver driver() {
            return top.session().driver();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "changes", description = "List paths added (A), changed (C) or deleted (D) in a layer.")
    static final class Changes extends DiffCommand {
        @Override
        public Integer call() {
            List<Change> changes = driver().changes(id, parent);
            if (top.session().json()) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (Change c : changes) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("Path", c.path());
                    r.put("Kind", c.kind().wireValue());
                    rows.add(r);
                }
                Output.json(out(), rows);
            } else {
                for (Change c : changes) out().println(c);
            }
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "diff-size", description = "Print the size in bytes of what a layer changed.")
    static final class DiffSize extends DiffCommand {
        @Override
        public Integer call() {
            long size = driver().diffSize(id, parent);
            if (top.session().json()) Output.json(out(), Output.fields("id", id, "size", size));
            else out().println(size);
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "diff", description = "Write a tar of what a layer changed, to stdout or a file.")
    static final class Diff extends DiffCommand {
        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the tar here instead of stdout.")
        Path output;

        @Override
        public Integer call() throws IOException {
            StorageDriver d = driver();
            if (output == null && top.session().json()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--json needs -o FILE: the tar goes to stdout otherwise");
            }
            try (InputStream tar = d.diff(id, parent);
                 OutputStream sink = output == null ? new FileOutputStream(java.io.FileDescriptor.out) : Files.newOutputStream(output);
                 Progress progress = Progress.start("diff " + id, 0)) {
                long n = tar.transferTo(Progress.counting(sink, progress));
                sink.flush();
                if (top.session().json()) Output.json(out(), Output.fields("id", id, "bytes", n, "output", output.toString()));
            }
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "apply", description = "Apply a tar diff (plain, gzip or zstd) to a layer, from a file or stdin; print the size applied.")
    static final class Apply extends DiffCommand {
        @Parameters(index = "1", arity = "0..1", paramLabel = "FILE", description = "The tar (default: stdin).")
        Path file;

        @Override
        public Integer call() throws IOException {
            StorageDriver d = driver();
            if (file != null && !Files.isRegularFile(file)) throw new StorageException("apply", file.toString(), "no such file");
            long total = file == null ? 0 : Files.size(file);
            long size;
            // Ctrl-C or a SIGTERM ends the JVM in the middle of the apply: say what state the layer is in. (The
            // driver swaps a finished apply in whole, so an interrupted one never touched the layer; the next
            // command drops what it staged.)
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            java.io.PrintWriter err = spec.commandLine().getErr();
            Thread onSignal = new Thread(() -> {
                if (!done.get()) err.println("strata: apply " + id + ": interrupted; layer " + id + " unchanged");
            });
            Runtime.getRuntime().addShutdownHook(onSignal);
            try (InputStream raw = file == null ? System.in : Files.newInputStream(file);
                 Progress progress = Progress.start("apply " + id, total)) {
                size = d.applyDiff(id, parent, new BufferedInputStream(Progress.counting(raw, progress), 1 << 16));
            } finally {
                done.set(true);
                try {
                    Runtime.getRuntime().removeShutdownHook(onSignal);
                } catch (IllegalStateException shuttingDown) {
                    // the hook has run or is running
                }
            }
            if (top.session().json()) Output.json(out(), Output.fields("id", id, "size", size));
            else out().println(size);
            return Main.OK;
        }
    }
}
