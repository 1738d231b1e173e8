package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * containerd's own overlayfs snapshotter served as a proxy snapshotter ({@code standin/main.go}: containerd 1.6.20's
 * {@code snapshots/overlay} behind {@code contrib/snapshotservice}): the same snapshotter as the built-in one, reached
 * the way Strata's is. It separates what the proxy path costs from what Strata costs, and exercises the proxy
 * plumbing of the fixtures without Strata. Built with Go 1.19 in GOPATH mode from Debian's Go sources.
 */
public final class ProxiedOverlayfs extends ProxySnapshotter {
    public static final String NAME = "overlayfs-proxy";
    static final Path SOURCE = Path.of(System.getProperty("strata.standin.source", "standin"));

    public ProxiedOverlayfs(Path dir) {
        super(dir, "standin");
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
        r.ok("go build of the stand-in");
        return bin;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected List<String> command() {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.of(binary().toString(), socket.toString(), root.toString());
    }

    @Override
    public List<String> stored(Path containerdRoot) {
        return BuiltInSnapshotter.snapshotDirs(root);
    }
}
