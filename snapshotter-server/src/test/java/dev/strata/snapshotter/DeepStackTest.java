package dev.strata.snapshotter;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 210 overlay layers, mounted by containerd's own mount code (the Go harness's {@code deep} test): past one page of
 * options Strata mounts the stack itself with the new mount API and answers a bind mount, and removing the
 * snapshots unmounts it again.
 */
class DeepStackTest {
    @Test
    void twoHundredTenLowersMountThroughContainerdsMountCode() throws Exception {
        Path log = Path.of("target", "deep-stack.log").toAbsolutePath();
        int status = GoHarness.run("deep.test", "overlay", log, Map.of("STRATA_DEEP_LAYERS", "210"));
        assertEquals(0, status, "the deep-stack test failed; see " + log);
        assertTrue(Files.readString(log).contains("--- PASS: TestDeepStackMountsThroughContainerd"), "it ran; see " + log);
        assertTrue(Mountinfo.under("strata-deep-").isEmpty(), "mounts left: " + Mountinfo.under("strata-deep-"));
    }
}
