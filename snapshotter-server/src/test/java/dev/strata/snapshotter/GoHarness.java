package dev.strata.snapshotter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Builds the Go harness ({@code go/build}) once per test JVM into {@code target/go-bin}. */
final class GoHarness {
    private static Path built;

    private GoHarness() {
    }

    static synchronized Path build() throws Exception {
        if (built != null) return built;
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/go")), "golang-go is not installed (scripts/setup installs it)");
        assumeTrue(Files.isDirectory(Path.of("/usr/share/gocode/src/github.com/containerd/containerd/snapshots/testsuite")),
                "Debian's containerd sources are not installed (golang-github-containerd-containerd-dev; scripts/setup installs it)");
        Path out = Path.of("target", "go-bin").toAbsolutePath();
        Path log = Path.of("target", "go-build.log").toAbsolutePath();
        Process p = new ProcessBuilder(Path.of("go", "build").toAbsolutePath().toString(), out.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("building the Go harness took over 10 minutes; see " + log);
        }
        assertEquals(0, p.exitValue(), () -> "building the Go harness failed: " + readQuietly(log));
        built = out;
        return out;
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
