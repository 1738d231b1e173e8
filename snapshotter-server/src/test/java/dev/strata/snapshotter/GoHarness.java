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

    /**
     * Runs one of the harness's test binaries with {@code -test.v} against snapshotters from a factory serving
     * {@code driver}; its output goes to {@code log}. Returns the exit status; asserts that every snapshotter it
     * asked for was stopped.
     */
    static int run(String binary, String driver, Path log, java.util.Map<String, String> env) throws Exception {
        Path target = Path.of("target").toAbsolutePath();
        try (SnapshotterFactory factory = new SnapshotterFactory(driver, target.resolve("factory-" + binary + "-" + driver + ".sock"))) {
            ProcessBuilder pb = new ProcessBuilder(build().resolve(binary).toString(), "-test.v", "-test.timeout", "12m")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("STRATA_SNAPSHOTTER_FACTORY", factory.socket().toString());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(14, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(binary + " did not finish in 14 minutes; see " + log);
            }
            assertEquals(0, factory.running(), "every test stops the snapshotters it started; see " + log);
            return p.exitValue();
        }
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
