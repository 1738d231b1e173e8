package dev.strata.cli;

import dev.strata.api.Change;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Kernel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedInputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** Moving layers in and out: changes, diff-size, diff, apply. */
final class DiffCommands {
    private DiffCommands() {
    }

    abstract static class DiffCommand extends LayerCommands.LayerCommand {
        @Option(names = {"-p", "--parent"}, paramLabel = "PARENT", description = "Compare against this parent (default: the whole layer).")
        String parent;
    }

    @Command(mixinStandardHelpOptions = true, name = "changes", description = "List paths added (A), changed (C) or deleted (D) in a layer.")
    static final class Changes extends DiffCommand {
        @Override
        protected int run() {
            List<Change> changes = driver().changes(id, parent);
            // Kinds as docker diff prints them (A, C, D), not moby's wire numbers.
            emit(changes.stream().map(c -> Output.fields("path", c.path(), "kind", String.valueOf(c.kind().letter()))).toList(),
                    () -> changes.forEach(c -> out().println(c)));
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "diff-size", description = "Print the size in bytes of what a layer changed.")
    static final class DiffSize extends DiffCommand {
        @Override
        protected int run() {
            long size = driver().diffSize(id, parent);
            emit(Output.fields("id", id, "parent", parent, "size", size), () -> out().println(size));
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "diff",
            description = "Write a tar of what a layer changed (OCI whiteouts) to a file, or to stdout when that is not a terminal.")
    static final class Diff extends DiffCommand {
        @Option(names = "--output", paramLabel = "FILE", description = "Write the tar to FILE instead of stdout.")
        Path output;

        @Override
        protected int run() throws IOException {
            if (output == null && json()) throw new UsageException("--json needs --output FILE: the tar would go to stdout with the JSON");
            if (output == null && Kernel.isatty(1)) {
                throw new UsageException("refusing to write a tar to a terminal: redirect stdout (> FILE, | tar -t) or give --output FILE");
            }
            if (output != null && output.getParent() != null && !Files.isDirectory(output.getParent())) {
                throw new NoSuchFileException(output.getParent().toString());
            }
            StorageDriver d = driver();
            long n;
            try (InputStream tar = d.diff(id, parent);
                 OutputStream sink = output == null ? new FileOutputStream(FileDescriptor.out) : Files.newOutputStream(output);
                 Progress progress = Progress.start("diff " + id, 0)) {
                n = tar.transferTo(Progress.counting(sink, progress));
                sink.flush();
            }
            long bytes = n;
            emit(Output.fields("id", id, "parent", parent, "bytes", bytes, "output", String.valueOf(output)), () -> { });
            return Main.OK;
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "apply",
            description = "Apply a tar diff (plain, gzip or zstd) to a layer, from FILE or stdin; print the size applied.")
    static final class Apply extends DiffCommand {
        @Parameters(index = "1", arity = "0..1", paramLabel = "FILE", description = "The tar (default: stdin).")
        Path file;

        @Override
        protected int run() throws IOException {
            if (file != null && !Files.isRegularFile(file)) {
                throw new UsageException(file + ": " + (Files.exists(file) ? "not a regular file" : "no such file"));
            }
            StorageDriver d = driver();
            if (file == null && Kernel.isatty(0)) {
                err().println("strata: apply " + id + ": reading a layer tar (plain, gzip or zstd) from standard input,"
                        + " which is a terminal; pipe one in or give FILE (Ctrl-D ends, Ctrl-C stops)");
            }
            long total = file == null ? 0 : Files.size(file);
            long size;
            InputStream raw = file == null ? System.in : Files.newInputStream(file);
            try (ApplyInterruption onSignal = new ApplyInterruption(id, raw, spec.commandLine().getErr(), Kernel.isatty(2));
                 raw;
                 Progress progress = Progress.start("apply " + id, total)) {
                try {
                    size = d.applyDiff(id, parent, new BufferedInputStream(Progress.counting(onSignal.input(), progress), 1 << 16));
                    onSignal.applied();
                } catch (RuntimeException e) {
                    if (onSignal.interrupted()) return Main.FAILED; // its hook says what became of the layer
                    throw e;
                }
            }
            emit(Output.fields("id", id, "parent", parent, "size", size), () -> out().println(size));
            return Main.OK;
        }
    }
}
