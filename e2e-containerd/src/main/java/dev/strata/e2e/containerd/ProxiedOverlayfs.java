package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * containerd's own overlayfs snapshotter served as a proxy snapshotter: snapshotter-server's {@code refserver}
 * (containerd 1.6.20's {@code snapshots/overlay} behind {@code contrib/snapshotservice}, with the options
 * containerd's plugin uses), the reference of the snapshot-round benchmark too. The same snapshotter as the built-in
 * one, reached the way Strata's is: it separates what the proxy path costs from what Strata costs, and exercises
 * the fixtures' proxy plumbing without Strata. Built with snapshotter-server's {@code go/build}.
 */
public final class ProxiedOverlayfs extends ProxySnapshotter {
    public static final String NAME = "overlayfs-proxy";
    /** snapshotter-server's Go harness build script; relative to this module's directory by default. */
    static final Path GO_BUILD = Path.of(System.getProperty("strata.gobuild", "../snapshotter-server/go/build"));

    public ProxiedOverlayfs(Path dir) {
        super(dir, "refserver");
    }

    /** Why the reference server cannot be built here, or null. */
    public static String whyUnavailable() {
        if (Host.run(List.of("sh", "-c", "command -v go"), Map.of(), 10).code() != 0) return "no Go toolchain (Debian: apt-get install golang-go)";
        if (!Files.isDirectory(Path.of("/usr/share/gocode/src/github.com/containerd/containerd/contrib/snapshotservice"))) {
            return "containerd's Go sources are missing (Debian: apt-get install golang-github-containerd-containerd-dev)";
        }
        return Files.isExecutable(GO_BUILD) ? null : "no " + GO_BUILD.toAbsolutePath() + " (set strata.gobuild)";
    }

    /** Builds snapshotter-server's Go harness once into {@code target/go-bin}; returns refserver. */
    static synchronized Path binary() {
        Path out = Path.of("target", "go-bin").toAbsolutePath();
        Path bin = out.resolve("refserver");
        if (Files.isExecutable(bin)) return bin;
        Host.run(List.of(GO_BUILD.toAbsolutePath().toString(), out.toString()), Map.of(), 600).ok("snapshotter-server/go/build");
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
        return List.of(binary().toString(), "-socket", socket.toString(), "-root", root.toString());
    }

    @Override
    public List<String> stored(Path containerdRoot) {
        return BuiltInSnapshotter.snapshotDirs(root);
    }
}
