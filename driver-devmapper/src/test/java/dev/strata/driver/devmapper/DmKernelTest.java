package dev.strata.driver.devmapper;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.SyscallException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The struct layouts and every dm command, against a real kernel (the lab's guest). */
class DmKernelTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needsDm() {
        DmAssumptions.assumeDeviceMapper();
    }

    @Test
    void versionAndTargets() {
        try (DeviceMapper dm = DeviceMapper.open()) {
            int[] v = dm.version();
            assertEquals(4, v[0]);
            assertTrue(v[1] >= 27, "deferred removal needs dm 4.27, kernel has " + v[1]);
            List<String> targets = dm.targetVersions();
            assertTrue(targets.stream().anyMatch(t -> t.startsWith("thin-pool ")), targets.toString());
        }
    }

    @Test
    void createLoadResumeStatusRemoveRoundTrip() {
        String name = "strata-dmtest-" + ProcessHandle.current().pid();
        try (DeviceMapper dm = DeviceMapper.open()) {
            long dev = dm.create(name, "STRATA-TEST-" + name);
            try {
                DmInfo created = dm.info(name).orElseThrow();
                assertEquals(name, created.name());
                assertEquals(dev, created.dev());
                assertFalse(created.hasLiveTable());
                dm.load(name, List.of(new DmTarget(0, 2048, "error", ""), new DmTarget(2048, 1024, "error", "")));
                assertEquals(dev, dm.resume(name));
                DmInfo live = dm.info(name).orElseThrow();
                assertTrue(live.hasLiveTable());
                assertEquals(2, live.targetCount());
                List<DmTarget> table = dm.table(name);
                assertEquals(List.of(new DmTarget(0, 2048, "error", ""), new DmTarget(2048, 1024, "error", "")), table);
                dm.suspend(name);
                assertTrue(dm.info(name).orElseThrow().suspended());
                dm.resume(name);
                Path node = DeviceNodes.ensure(name, dev);
                assertTrue(Files.exists(node));
            } finally {
                dm.remove(name, false);
                DeviceNodes.remove(name);
            }
            assertTrue(dm.info(name).isEmpty());
            var e = assertThrows(SyscallException.class, () -> dm.remove(name, false));
            assertEquals(Errno.ENXIO, e.errno());
            assertTrue(e.getMessage().contains("DM_DEV_REMOVE") && e.getMessage().contains(name), e.getMessage());
        }
    }

    @Test
    void thinPoolMessagesAndStatus() {
        String pool = "strata-dmtest-pool-" + ProcessHandle.current().pid();
        Path data = dir.resolve("data"), meta = dir.resolve("meta");
        PoolSetup.ensureImage(data, 256L << 20);
        PoolSetup.ensureImage(meta, 8L << 20);
        try (DeviceMapper dm = DeviceMapper.open();
             LoopDevice d = LoopDevice.attach(data, false, true);
             LoopDevice m = LoopDevice.attach(meta, false, true)) {
            dm.create(pool, null);
            try {
                dm.load(pool, List.of(ThinPool.table((256L << 20) / 512, m.devNumber(), d.devNumber(), 128)));
                long dev = dm.resume(pool);
                ThinPool tp = new ThinPool(dm, pool, dev, 128, null, null, true);
                PoolStatus s = tp.status();
                assertEquals(0, s.transactionId());
                assertEquals(4096, s.dataTotal(), "256M in 64K blocks");
                tp.createThin(1);
                var exists = assertThrows(SyscallException.class, () -> tp.createThin(1));
                assertEquals(Errno.EEXIST, exists.errno(), "create_thin of an existing id is how a leak is detected");
                tp.createSnap(2, 1);
                tp.setTransactionId(0, 1);
                assertEquals(1, tp.status().transactionId());
                Path thin = tp.activate("strata-dmtest-thin-" + ProcessHandle.current().pid(), 2, 16L << 20);
                assertTrue(Files.exists(thin));
                var busy = assertThrows(SyscallException.class, () -> tp.delete(2));
                assertEquals(Errno.EBUSY, busy.errno(), "an active thin device cannot be deleted");
                tp.deactivate("strata-dmtest-thin-" + ProcessHandle.current().pid(), false);
                tp.delete(2);
                tp.delete(1);
                var gone = assertThrows(SyscallException.class, () -> tp.delete(1));
                assertEquals(Errno.ENODATA, gone.errno());
            } finally {
                dm.remove(pool, false);
                DeviceNodes.remove(pool);
            }
        }
        assertEquals(List.of(), DmAssumptions.loopDevices(dir), "autoclear detached the loop devices");
    }
}
