package dev.strata.e2e.containerd;

import dev.strata.nativeio.IdmapProbe;
import dev.strata.nativeio.MountInfo;
import dev.strata.testsupport.Host;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A container in a user namespace on containerd 2.1.9, the snapshotter granted {@code remap-ids} in containerd's
 * config: {@code ctr run --remap-labels --uidmap 0:100000:65536 --gidmap 0:100000:65536}. containerd's client then
 * sends the maps as the snapshot's labels rather than making a chown'ed copy of the image itself (a
 * {@code <digest>-remap} snapshot). Inside, the image's files are root's; a file the container writes is
 * 100000's on the host; and once the container is gone nothing is left mounted. Without the grant (a config that
 * predates it), the client's chown'ed copy must work as well: the labels then still come, on a parent already
 * shifted, and Strata must not shift it twice.
 */
abstract class UsernsCtrScenario extends EngineScenario {
    static final String IMAGE = "docker.io/strata-e2e/busybox:1";
    static final String MAP = "0:100000:65536";
    static final int HOST_ROOT = 100000;

    Containerd containerd;

    UsernsCtrScenario(SnapshotterChoice choice) {
        super("userns", choice);
    }

    @Override
    String whyEnginesMissing() {
        String engines = Engines.CONTAINERD_2_1.whyMissing(false);
        if (engines != null || !"overlay".equals(choice.strataDriver())) return engines;
        // the workspace is a tmpfs: ask the kernel about idmapped lowers on one
        var s = IdmapProbe.overlayOnIdmappedLowers(Path.of("/dev/shm"));
        return s.supported() ? null : "this kernel cannot stack an overlay on idmapped tmpfs lowers: " + s.reason();
    }

    @Override
    void startEngines() {
        containerd = CtrContainerd.start(Engines.CONTAINERD_2_1, ws, snapshotter);
    }

    @Override
    void stopEngines() {
        CtrContainerd.stop(containerd);
    }

    private String sn() {
        return snapshotter.name();
    }

    private List<String> snapshots() {
        return containerd.ctrOk("snapshots", "--snapshotter", sn(), "ls").lines().skip(1).toList();
    }

    /** Whether containerd tells its client the snapshotter takes remap-ids (else the client makes the chown'ed copy). */
    private boolean granted;

    @Test
    @Order(1)
    void containerdGrantsTheSnapshotterWhatItsConfigSays() {
        String plugin = containerd.ctrOk("plugins", "ls", "-d", "id==" + sn());
        granted = plugin.lines().anyMatch(l -> l.startsWith("Capabilities:") && List.of(l.substring(13).trim().split(",")).contains("remap-ids"));
        // a proxy has what containerd's config grants it; a built-in snapshotter says for itself
        if (snapshotter.proxySocket().isPresent()) assertEquals(snapshotter.capabilities().contains("remap-ids"), granted, plugin);
    }

    @Test
    @Order(2)
    void importUnpacksTheImage() {
        Path archive = TestImages.busybox(ws.dir, IMAGE, List.of("/bin/sh"));
        containerd.ctrOk("images", "import", "--snapshotter", sn(), archive.toString());
        assertEquals(1, snapshots().size(), String.join("\n", snapshots()));
    }

    @Test
    @Order(3)
    void theContainerSeesRootsFilesAndItsWriteLandsAsTheMappedRoot() {
        String out = containerd.ctrOk("run", "--snapshotter", sn(), "--runc-root", ws.resolve("runc").toString(),
                "--remap-labels", "--uidmap", MAP, "--gidmap", MAP, IMAGE, "u1",
                "sh", "-c", "id && echo written-in-userns > /root/w && ls -lnd / /etc/passwd /bin/busybox /root/w");
        List<String> lines = out.lines().toList();
        assertEquals("uid=0(root) gid=0(root) groups=0(root)", lines.getFirst(), out);
        assertEquals(4, lines.size() - 1, out);
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.trim().split("\\s+");
            assertEquals("0 0", f[2] + " " + f[3], "owner inside the user namespace: " + l);
        }
        List<String> snaps = snapshots();
        String all = String.join("\n", snaps);
        assertTrue(snaps.stream().anyMatch(s -> s.startsWith("u1 ") && s.contains("Active")), all);
        if (granted) {
            // the labels reached the snapshotter: the client made no chown'ed copy (<digest>-remap, committed as <digest>)
            assertEquals(2, snaps.size(), all);
        } else {
            // the client's chown'ed copy of the image, under which Strata did not shift the ids a second time
            assertEquals(3, snaps.size(), all);
        }

        List<Path> written = find(snapshotter instanceof ProxySnapshotter p ? p.root() : ws.dir, "root/w");
        assertFalse(written.isEmpty(), "the container's write is in the snapshotter's storage");
        for (Path w : written) {
            assertEquals(List.of(HOST_ROOT, HOST_ROOT), owner(w), "on the host, " + w);
        }
    }

    @Test
    @Order(4)
    void removingTheContainerAndImageLeavesNothingMountedOrStored() {
        containerd.ctrOk("containers", "rm", "u1");
        containerd.ctrOk("images", "rm", "--sync", IMAGE);
        // containerd's garbage collector removes the client's chown'ed copy (no longer anyone's parent) in its own time
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!snapshots().isEmpty() && System.nanoTime() < deadline) Host.sleep(200);
        assertEquals(List.of(), snapshots());
        List<String> left;
        while (!(left = snapshotter.stored(containerd.root())).isEmpty() && System.nanoTime() < deadline) Host.sleep(200);
        assertEquals(List.of(), left, "snapshots left in the snapshotter's storage");
        assertEquals(List.of(), mountsUnder(ws.dir), "mounts left after the container is gone");
        // the user namespaces of idmapped mounts live as long as the mounts; their helper processes are reaped at once
        snapshotter.process().ifPresent(p -> assertEquals(List.of(), p.children().map(c -> c.pid() + " " + c.info().command().orElse("?")).toList(),
                "processes the snapshotter left"));
    }

    private static List<Path> find(Path dir, String suffix) {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(p -> p.endsWith(suffix) && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Integer> owner(Path p) {
        try {
            return List.of((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                    (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Mount points below {@code dir} (the workspace's own tmpfs is {@code dir} itself). */
    private static List<String> mountsUnder(Path dir) {
        return MountInfo.under(dir).stream().map(MountInfo::mountPoint).filter(m -> !m.equals(dir.toString())).toList();
    }
}
