package dev.strata.e2e.containerd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * containerd's own overlayfs snapshotter served as a proxy snapshotter ({@code standin/main.go}: containerd 1.6.20's
 * {@code snapshots/overlay} behind {@code contrib/snapshotservice}): the same snapshotter as the built-in one, reached
 * the way Strata's is. It separates what the proxy path costs from what Strata costs, and exercises the proxy
 * plumbing of the fixtures without Strata. Built with Go 1.19 in GOPATH mode from Debian's Go sources.
 */
public final class ProxiedOverlayfs implements Snapshotter {
    public static final String NAME = "overlayfs-proxy";
    static final Path SOURCE = Path.of(System.getProperty("strata.standin.source", "standin"));

    private final Path socket;
    private final Path root;
    private final Path log;
    private Process process;

    public ProxiedOverlayfs(Path dir) {
        this.socket = dir.resolve("standin.sock");
        this.root = dir.resolve("standin-root");
        this.log = dir.resolve("standin.log");
    }

    /** Why the stand-in cannot be built here, or null. */
    public static String whyUnavailable() {
        if (Host.run(List.of("sh", "-c", "command -v go"), Map.of(), 10).code() != 0) return "no Go toolchain (Debian: apt-get install golang-go)";
        if (!Files.isDirectory(Path.of("/usr/share/gocode/src/github.com/containerd/containerd/contrib/snapshotservice"))) {
            return "containerd's Go sources are missing (Debian: apt-get install golang-github-containerd-containerd-dev)";
        }
        return Files.isRegularFile(SOURCE.resolve("main.go")) ? null : "no " + SOURCE.resolve("main.go") + " (set strata.standin.source)";
    }

    /** Builds the stand-in once into {@code target/standin}; returns the binary. */
    static synchronized Path binary() {
        Path bin = Path.of("target", "standin", "standin").toAbsolutePath();
        if (Files.isExecutable(bin)) return bin;
        Path gopath = Path.of("target", "standin", "gopath").toAbsolutePath();
        Host.Result r = Host.run(List.of("sh", "-c", "cd " + SOURCE.toAbsolutePath() + " && go build -o " + bin + " ."),
                Map.of("GOPATH", gopath + ":/usr/share/gocode", "GO111MODULE", "off", "GOFLAGS", ""), 600);
        r.ok();
        return bin;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Optional<Path> proxySocket() {
        return Optional.of(socket);
    }

    @Override
    public Optional<Path> exportedRoot() {
        return Optional.of(root);
    }

    @Override
    public void start() {
        if (process != null && process.isAlive()) throw new IllegalStateException("the stand-in already runs");
        try {
            Files.createDirectories(root);
            process = new ProcessBuilder(binary().toString(), socket.toString(), root.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket)) {
            if (!process.isAlive()) throw new AssertionError("the stand-in exited " + process.exitValue() + ":\n" + Host.tail(log, 20));
            if (System.nanoTime() > deadline) throw new AssertionError("no stand-in socket after 30 s:\n" + Host.tail(log, 20));
            Host.sleep(20);
        }
    }

    @Override
    public void stop() {
        if (process == null || !process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("the stand-in did not stop within 30 s of SIGTERM");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public Optional<ProcessHandle> process() {
        return process != null && process.isAlive() ? Optional.of(process.toHandle()) : Optional.empty();
    }

    @Override
    public List<String> stored(Path containerdRoot) {
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
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
