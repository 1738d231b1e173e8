package dev.strata.bench;

import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A benchmark leaves nothing behind, when it ends and when a signal stops it: no scratch directory, no mount, and no
 * run directory of the kit for a home it made (those live on a tmpfs outside the scratch directory, one per home).
 * LayerScale at a tiny size stands for them all: its overlay homes mount and make run directories, and its scratch
 * tmpfs is {@link BenchMount}'s, undone by {@link Teardown} as every benchmark's scratch filesystem is.
 */
class LeftoversTest {
    @TempDir
    Path parent;

    @BeforeEach
    void needsRoot() {
        assumeTrue(Kernel.isRoot(), "needs root: the benchmark mounts a tmpfs and overlay layers");
    }

    @Test
    void aBenchmarkThatEndsLeavesNothing() throws Exception {
        LayerScale.run("overlay", new int[]{10, 20}, 5, 2, parent);
        assertNothingLeft();
    }

    @Test
    void aBenchmarkStoppedBySigtermLeavesNothing() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), LayerScale.class.getName(),
                "overlay", "10,200000", "5", "2");
        pb.environment().put("WORK", parent.toString());
        Process p = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            // stopped while it makes the large home: both homes exist, with their run directories, and it mounts
            String line;
            do {
                line = err.readLine();
            } while (line != null && !line.startsWith("home with 10 layers made"));
            assertTrue(line != null, "LayerScale ended before making its first home");
            Thread.sleep(500);
            assertTrue(p.isAlive(), "LayerScale ended before it was stopped");
            assertTrue(!runDirectoriesUnder(parent).isEmpty(), "no run directory was made: the check below would prove nothing");
            p.destroy();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "LayerScale did not stop on SIGTERM");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(143, p.exitValue(), "ended by SIGTERM");
        assertNothingLeft();
    }

    private void assertNothingLeft() throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            assertEquals(List.of(), s.toList(), "the scratch directory is gone");
        }
        assertEquals(List.of(), MountInfo.under(parent), "nothing is mounted under it");
        assertEquals(List.of(), runDirectoriesUnder(parent), "no run directory of a home it made is left");
    }

    /** The kit's run directories whose {@code home} note names a home under {@code dir}, in every base it may use. */
    private static List<Path> runDirectoriesUnder(Path dir) throws IOException {
        String uid = String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        List<Path> bases = new ArrayList<>(List.of(Path.of("/run/strata"), Path.of("/dev/shm/strata-" + uid)));
        String env = System.getenv("STRATA_RUN_DIR");
        if (env != null && !env.isBlank()) bases.add(Path.of(env));
        String real = dir.toRealPath().toString();
        List<Path> found = new ArrayList<>();
        for (Path base : bases) {
            if (!Files.isDirectory(base)) continue;
            try (Stream<Path> s = Files.list(base)) {
                for (Path run : s.toList()) {
                    Path note = run.resolve("home");
                    try {
                        if (Files.readString(note).startsWith(real + "/")) found.add(run);
                    } catch (IOException gone) {
                        // not a run directory, or swept as we looked
                    }
                }
            }
        }
        return found;
    }
}
