package dev.strata.snapshotter;

import dev.strata.api.MountSpecs.MountSpec;
import dev.strata.api.DriverRegistry;
import dev.strata.nativeio.Mounts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * devmapper served as a snapshotter: it cannot describe its mounts (the root is a directory inside the device's
 * filesystem), so Strata mounts each snapshot's thin device and containerd gets a bind mount. Runs where the kernel
 * has device-mapper, i.e. in the kernel lab ({@link DevmapperLabTest} boots it there).
 */
class DevmapperSnapshotterTest {
    private static final List<String> SMALL = List.of("dm.basesize=48M", "dm.loopdatasize=1G", "dm.loopmetadatasize=16M");

    @TempDir
    Path tmp;

    @Test
    void devmapperServesPrepareCommitViewAndARestart() throws Exception {
        var dm = DriverRegistry.load().require("devmapper").probe(tmp);
        assumeTrue(dm.supported(), dm.reason() + "; DevmapperLabTest runs this test in the kernel lab");
        Path root = tmp.resolve("root"), target = Files.createDirectories(tmp.resolve("rootfs"));
        // The calls go straight to the Snapshotter: gRPC is the same for every driver and tested on the host, and
        // its classes cost the emulated guest more than the test itself.
        Snapshotter sn = open(root);
        try {
            MountSpec m = sn.prepare("base-a", "", Map.of()).getFirst();
            assertEquals("bind", m.type(), "containerd binds the device filesystem Strata mounted");
            mount(m, target);
            Files.writeString(target.resolve("hello"), "from devmapper");
            Mounts.unmount(target, 0);
            sn.commit("base", "base-a", Map.of());
            assertTrue(sn.usage("base").size() > 0);

            // containerd's user-namespace labels (remap-ids): the driver shows the layer under the maps
            MountSpec mapped = sn.prepare("mapped", "base", Map.of(IdMapLabels.UID_LABEL, "0:100000:65536",
                    IdMapLabels.GID_LABEL, "0:200000:65536")).getFirst();
            assertEquals("bind", mapped.type());
            mount(mapped, target);
            assertEquals(100000, Files.getAttribute(target.resolve("hello"), "unix:uid"));
            assertEquals(200000, Files.getAttribute(target.resolve("hello"), "unix:gid"));
            String layer = sn.driver().layers().stream().filter(l -> !sn.driver().idMaps(l).isNone()).findFirst().orElseThrow();
            System.out.println("devmapper under id maps: " + sn.driver().metadata(layer).get("IdMapMethod"));
            Mounts.unmount(target, 0);
            sn.remove("mapped");

            mount(sn.prepare("child", "base", Map.of()).getFirst(), target);
            assertEquals("from devmapper", Files.readString(target.resolve("hello")));
            Files.writeString(target.resolve("child-file"), "x");
            Mounts.unmount(target, 0);

            MountSpec v = sn.view("view", "base", Map.of()).getFirst();
            assertTrue(v.options().contains("ro"));
            mount(v, target);
            assertEquals("from devmapper", Files.readString(target.resolve("hello")));
            assertThrows(java.io.IOException.class, () -> Files.writeString(target.resolve("nope"), "x"), "a view is read-only");
            Mounts.unmount(target, 0);
            SnapshotException e = assertThrows(SnapshotException.class, () -> sn.remove("base"));
            assertEquals(SnapshotException.Reason.FAILED_PRECONDITION, e.reason());
        } finally {
            sn.close(); // the active snapshots' devices stay mounted for containerd
        }
        Snapshotter again = open(root);
        try {
            mount(again.mounts("child").getFirst(), target);
            assertEquals("x", Files.readString(target.resolve("child-file")));
            Mounts.unmount(target, 0);
            again.remove("view");
            again.remove("child");
            again.remove("base");
            again.cleanup();
            List<SnapshotInfo> left = new java.util.ArrayList<>();
            again.walk(List.of(), left::add);
            assertEquals(List.of(), left);
        } finally {
            again.close(); // nothing is mounted any more: the driver releases its pool
        }
        assertTrue(Mountinfo.under(tmp.toString()).isEmpty(), "mounts left: " + Mountinfo.under(tmp.toString()));
    }

    private static Snapshotter open(Path root) {
        DriverRegistry registry = DriverRegistry.load();
        return Snapshotter.open(registry.open(registry.require("devmapper"), root, SMALL), root.resolve("snapshots/devmapper"));
    }

    /** What containerd does with a bind mount spec: bind, then remount read-only if asked. */
    private static void mount(MountSpec m, Path target) {
        assertEquals("bind", m.type());
        Mounts.mount(m.source(), target, "none", Mounts.MS_BIND | Mounts.MS_REC, null);
        if (m.options().contains("ro")) {
            Mounts.mount("none", target, "none", Mounts.MS_REMOUNT | Mounts.MS_BIND | Mounts.MS_RDONLY, null);
        }
    }
}
