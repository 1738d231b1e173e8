package dev.strata.snapshotter;

import containerd.types.MountOuterClass.Mount;
import dev.strata.api.DriverRegistry;
import dev.strata.nativeio.Mounts;
import io.grpc.Status.Code;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

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
        assumeTrue(Files.exists(Path.of("/dev/mapper/control")) || Files.readString(Path.of("/proc/misc")).contains("device-mapper"),
                "device-mapper is not in this kernel; DevmapperLabTest runs this test in the kernel lab");
        Path root = tmp.resolve("root"), target = Files.createDirectories(tmp.resolve("rootfs"));
        DriverRegistry registry = DriverRegistry.load();
        Snapshotter sn = Snapshotter.open(registry.open(registry.require("devmapper"), root, SMALL), root.resolve("snapshots/devmapper"));
        SnapshotterServer server = SnapshotterServer.start(root.resolve("s.sock"), sn, Duration.ofSeconds(5));
        try (Client c = new Client(server.socket())) {
            Mount m = c.prepare("base-a", "").getFirst();
            assertEquals("bind", m.getType(), "containerd binds the device filesystem Strata mounted");
            mount(m, target);
            Files.writeString(target.resolve("hello"), "from devmapper");
            Mounts.unmount(target, 0);
            c.commit("base", "base-a");
            assertTrue(c.usage("base").getSize() > 0);

            mount(c.prepare("child", "base").getFirst(), target);
            assertEquals("from devmapper", Files.readString(target.resolve("hello")));
            Files.writeString(target.resolve("child-file"), "x");
            Mounts.unmount(target, 0);

            Mount v = c.view("view", "base").getFirst();
            assertTrue(v.getOptionsList().contains("ro"));
            mount(v, target);
            assertEquals("from devmapper", Files.readString(target.resolve("hello")));
            assertThrows(java.io.IOException.class, () -> Files.writeString(target.resolve("nope"), "x"), "a view is read-only");
            Mounts.unmount(target, 0);
            assertEquals(Code.FAILED_PRECONDITION, Client.code(() -> c.remove("base")));
        }
        // a restart: the active snapshots' devices stay mounted for containerd, and are served again
        server.close();
        sn = Snapshotter.open(registry.open(registry.require("devmapper"), root, SMALL), root.resolve("snapshots/devmapper"));
        server = SnapshotterServer.start(root.resolve("s.sock"), sn, Duration.ofSeconds(5));
        try (Client c = new Client(server.socket())) {
            mount(c.mounts("child").getFirst(), target);
            assertEquals("x", Files.readString(target.resolve("child-file")));
            Mounts.unmount(target, 0);
            c.remove("view");
            c.remove("child");
            c.remove("base");
            assertTrue(c.list().isEmpty());
        } finally {
            server.close(); // nothing is mounted any more: the driver releases its pool
        }
        assertTrue(Mountinfo.under(tmp.toString()).isEmpty(), "mounts left: " + Mountinfo.under(tmp.toString()));
    }

    /** What containerd does with a bind mount spec: bind, then remount read-only if asked. */
    private static void mount(Mount m, Path target) {
        assertEquals("bind", m.getType());
        Mounts.mount(m.getSource(), target, "none", Mounts.MS_BIND | Mounts.MS_REC, null);
        if (m.getOptionsList().contains("ro")) {
            Mounts.mount("none", target, "none", Mounts.MS_REMOUNT | Mounts.MS_BIND | Mounts.MS_RDONLY, null);
        }
    }
}
