package dev.strata.e2e.containerd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A snapshotter compiled into containerd, such as {@code overlayfs} or {@code native}: the reference. */
public record BuiltInSnapshotter(String name) implements Snapshotter {
    public static final BuiltInSnapshotter OVERLAYFS = new BuiltInSnapshotter("overlayfs");

    @Override
    public Optional<Path> proxySocket() {
        return Optional.empty();
    }

    @Override
    public void start() {
    }

    @Override
    public void stop() {
    }

    @Override
    public Optional<ProcessHandle> process() {
        return Optional.empty();
    }

    /** The directories under {@code <root>/io.containerd.snapshotter.v1.<name>/snapshots}, one per snapshot. */
    @Override
    public List<String> stored(Path containerdRoot) {
        return snapshotDirs(containerdRoot.resolve("io.containerd.snapshotter.v1." + name));
    }

    /** The entries of {@code <root>/snapshots}: one directory per snapshot, in containerd's own snapshotters. */
    static List<String> snapshotDirs(Path root) {
        Path snapshots = root.resolve("snapshots");
        if (!Files.isDirectory(snapshots)) return List.of();
        try (var s = Files.list(snapshots)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
    }
}
