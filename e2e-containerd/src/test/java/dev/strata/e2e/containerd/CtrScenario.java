package dev.strata.e2e.containerd;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * containerd 1.6.20 (bookworm's) with the snapshotter under test, driven by its own ctr: an image archive imported
 * and unpacked into the snapshotter, a container run on it whose output is checked, then the image removed and
 * every snapshot gone from the snapshotter's own storage.
 */
abstract class CtrScenario extends EngineScenario {
    static final String IMAGE = "docker.io/strata-e2e/busybox:1";

    Containerd containerd;

    CtrScenario(SnapshotterChoice choice) {
        super("ctr16", choice);
    }

    @Override
    String whyEnginesMissing() {
        return Engines.CONTAINERD_1_6.whyMissing(false);
    }

    @Override
    void startEngines() {
        containerd = CtrContainerd.start(Engines.CONTAINERD_1_6, ws, snapshotter);
    }

    @Override
    void stopEngines() {
        CtrContainerd.stop(containerd);
    }

    private String sn() {
        return snapshotter.name();
    }

    @Test
    @Order(1)
    void containerdReportsTheSnapshotter() {
        String version = containerd.ctrOk("version");
        assertTrue(version.contains(Engines.CONTAINERD_1_6.version), version);
        String plugins = containerd.ctrOk("plugins", "ls");
        assertTrue(plugins.lines().anyMatch(l -> l.matches("io\\.containerd\\.snapshotter\\.v1\\s+" + sn() + "\\s.*\\bok\\s*")), plugins);
    }

    @Test
    @Order(2)
    void importUnpacksTheImageIntoTheSnapshotter() {
        Path archive = TestImages.busybox(ws.dir, IMAGE, List.of("/bin/sh"));
        containerd.ctrOk("images", "import", "--snapshotter", sn(), archive.toString());
        assertTrue(containerd.ctrOk("images", "ls", "-q").lines().anyMatch(IMAGE::equals));
        String snapshots = containerd.ctrOk("snapshots", "--snapshotter", sn(), "ls");
        assertTrue(snapshots.lines().anyMatch(l -> l.startsWith("sha256:") && l.contains("Committed")), snapshots);
        assertFalse(snapshotter.stored(containerd.root()).isEmpty(), "the layer is in the snapshotter's own storage");
    }

    @Test
    @Order(3)
    void aContainerRunsOnTheSnapshotterAndWritesToItsLayer() {
        // runc's state in the workspace, not in /run/containerd/runc/<namespace> (which the shim would leave behind).
        String out = containerd.ctrOk("run", "--rm", "--snapshotter", sn(), "--runc-root", ws.resolve("runc").toString(), IMAGE, "c1",
                "sh", "-c", "echo written-by-ctr > /tmp/f && cat /tmp/f /etc/passwd && id -u");
        assertEquals("written-by-ctr\nroot:x:0:0:root:/root:/bin/sh\n0", out);
    }

    @Test
    @Order(4)
    void removingTheImageLeavesNoSnapshot() {
        containerd.ctrOk("images", "rm", "--sync", IMAGE);
        assertEquals("", containerd.ctrOk("snapshots", "--snapshotter", sn(), "ls").lines().skip(1).reduce("", String::concat));
        assertEquals(List.of(), snapshotter.stored(containerd.root()), "snapshots left in the snapshotter's storage");
    }
}
