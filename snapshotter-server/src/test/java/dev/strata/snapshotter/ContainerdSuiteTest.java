package dev.strata.snapshotter;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * containerd's own snapshotter suite ({@code snapshots/testsuite} from Debian's containerd 1.6.20 sources, unchanged)
 * through containerd's own proxy client, against Strata's gRPC server, for overlay and vfs. The Go harness
 * ({@code go/}) is built here; each of the suite's sub-tests gets a fresh snapshotter from {@link SnapshotterFactory}.
 * Which cases pass is written to {@code target/containerd-suite-<driver>.txt}; every case must pass, except the one
 * the suite itself skips (Rename, "still fails on some kernels with overlay").
 */
class ContainerdSuiteTest {
    /** The suite's sub-tests in containerd 1.6.20. */
    static final List<String> CASES = List.of("Basic", "StatActive", "StatComitted", "TransitivityTest",
            "PreareViewFailingtest", "Update", "Remove", "Walk", "LayerFileupdate", "RemoveDirectoryInLowerLayer", "Chown",
            "DirectoryPermissionOnCommit", "RemoveIntermediateSnapshot", "DeletedFilesInChildSnapshot",
            "MoveFileFromLowerLayer", "Rename", "ViewReadonly", "StatInWalk", "CloseTwice", "RootPermission", "128LayersMount");
    private static final Pattern RESULT = Pattern.compile("^\\s*--- (PASS|FAIL|SKIP): TestSnapshotterThroughProxy/(\\S+)");

    static Path bin;

    @BeforeAll
    static void buildHarness() throws Exception {
        bin = GoHarness.build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlay", "vfs"})
    void containerdsSuitePassesThroughTheProxy(String driver) throws Exception {
        Path target = Path.of("target").toAbsolutePath();
        Path log = target.resolve("containerd-suite-" + driver + ".log");
        Map<String, String> results = new TreeMap<>();
        try (SnapshotterFactory factory = new SnapshotterFactory(driver, target.resolve("factory-" + driver + ".sock"))) {
            ProcessBuilder pb = new ProcessBuilder(bin.resolve("suite.test").toString(), "-test.v", "-test.timeout", "12m")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("STRATA_SNAPSHOTTER_FACTORY", factory.socket().toString());
            pb.environment().put("STRATA_SUITE_NAME", "Strata-" + driver);
            Process p = pb.start();
            assertTrue(p.waitFor(14, TimeUnit.MINUTES), "the suite did not finish in 14 minutes; see " + log);
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                Matcher m = RESULT.matcher(line);
                if (m.find()) results.put(m.group(2), m.group(1));
            }
            List<String> summary = new ArrayList<>();
            results.forEach((k, v) -> summary.add(v + " " + k));
            Files.write(target.resolve("containerd-suite-" + driver + ".txt"), summary);
            assertEquals(0, p.exitValue(), "containerd's suite failed for " + driver + ": " + results + "; see " + log);
            assertEquals(0, factory.running(), "every sub-test stops its snapshotter");
        }
        for (String c : CASES) {
            assertEquals(c.equals("Rename") ? "SKIP" : "PASS", results.get(c), c + " on " + driver + "; see " + log);
        }
        assertEquals(CASES.size(), results.size(), "cases run: " + results.keySet());
        assertTrue(Mountinfo.under("snapshot-suite-Strata-" + driver).isEmpty(), "mounts left: " + Mountinfo.under("snapshot-suite-Strata-" + driver));
    }
}
