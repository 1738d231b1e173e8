package dev.strata.driver.devmapper;

import dev.strata.api.StorageDriver;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.LoopDevice;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Pool-level behaviour: free space guard, base size changes, xfs, a given pool. Runs in the kernel lab. */
class DevmapperPoolTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void needsDm() {
        DmAssumptions.assumeDeviceMapper();
    }

    @Test
    void aNearlyFullPoolRefusesNewLayersBeforeItGoesReadOnly() throws Exception {
        Path home = tmp.resolve("full");
        StorageDriver d = DmAssumptions.open(home, List.of("dm.basesize=64M", "dm.loopdatasize=64M", "dm.loopmetadatasize=4M"));
        String prefix = DmAssumptions.storage(d).devices().prefix;
        try {
            // the layer may hold 128M, the pool only 64M: fill until less than 10% of the pool is free
            d.createReadWrite("filler", null, CreateOptions.of(Map.of("size", "128M")));
            Path root = d.get("filler", "");
            byte[] mb = new byte[1 << 20];
            new java.util.Random(1).nextBytes(mb);
            ThinPool pool = DmAssumptions.storage(d).devices().pool;
            try (var out = java.nio.channels.FileChannel.open(root.resolve("blob"), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE)) {
                for (int i = 0; i < 64; i++) {
                    out.write(java.nio.ByteBuffer.wrap(mb));
                    if (i % 2 == 1) {
                        out.force(true);
                        PoolStatus s = pool.status();
                        if ((s.dataTotal() - s.dataUsed()) * 100 < s.dataTotal() * 7) break;
                    }
                }
            }
            PoolStatus filled = pool.status();
            assertTrue((filled.dataTotal() - filled.dataUsed()) * 100 < filled.dataTotal() * 10, "filled: " + filled);
            d.put("filler"); // unmount flushes it to the pool
            var e = assertThrows(StorageException.class, () -> d.create("one-more", null, CreateOptions.NONE));
            assertTrue(e.getMessage().matches("(?s).*devmapper: Thin Pool has \\d+ free data blocks which is less than minimum required 102 free data blocks\\. "
                    + "Create more free space in thin pool or use dm.min_free_space option to change behavior.*"), e.getMessage());
            assertEquals("rw", DevmapperDriverTest.status(d).get("Pool Mode"), "the pool did not go read-only");
            d.remove("filler"); // discard gives the blocks back
            d.create("one-more", null, CreateOptions.NONE);
            d.remove("one-more");
        } finally {
            d.cleanup();
        }
        DmAssumptions.assertNothingLeft(home, prefix);
    }

    /**
     * A remove whose thin device the pool no longer has (an earlier remove deleted it from the pool and was killed
     * before its record went) finishes: the record and id go, as moby's DeleteDevice takes ENODATA for deleted.
     * Before, every later remove of the layer failed on ENODATA and the pool's next start only logged it.
     */
    @Test
    void aRemoveFinishesWhenThePoolAlreadyDeletedTheDevice() throws Exception {
        Path home = tmp.resolve("gone");
        StorageDriver d = DmAssumptions.open(home);
        DeviceSet set = DmAssumptions.storage(d).devices();
        String prefix = set.prefix;
        try {
            d.create("gone", null, CreateOptions.NONE);
            int id = set.info("gone").deviceId();
            set.deactivate("gone", false);
            set.pool.delete(id); // what the killed remove did before its record went
            d.remove("gone");
            assertFalse(d.exists("gone"));
            assertEquals(null, set.store.read("gone"), "the record is left");
            assertFalse(set.ids.isUsed(id), "the id is still taken");
            d.create("gone", null, CreateOptions.NONE); // the id is usable again
            d.remove("gone");
        } finally {
            d.cleanup();
        }
        DmAssumptions.assertNothingLeft(home, prefix);
    }

    @Test
    void theBaseGrowsWithDmBasesizeAndNeverShrinks() throws Exception {
        Path home = tmp.resolve("grow");
        StorageDriver d = DmAssumptions.open(home);
        String prefix = DmAssumptions.storage(d).devices().prefix;
        d.cleanup();
        d = DmAssumptions.open(home, "dm.basesize=96M");
        try {
            assertEquals("100.7MB", DevmapperDriverTest.status(d).get("Base Device Size"));
            d.create("l", null, CreateOptions.NONE);
            var st = dev.strata.nativeio.StatFs.of(d.get("l", ""));
            assertTrue(st.blocks() * st.blockSize() > 80L << 20, "layer filesystem grew with the base");
            d.put("l");
        } finally {
            d.cleanup();
        }
        var e = assertThrows(StorageException.class, () -> DmAssumptions.open(home, "dm.basesize=32M").layers());
        assertTrue(e.getMessage().contains("devmapper: Base device size cannot be smaller than 100.7MB"), e.getMessage());
        DmAssumptions.assertNothingLeft(home, prefix);
    }

    @Test
    void xfsBase() throws Exception {
        assumeTrue(Kernel.hasFilesystem("xfs"), "xfs is not in this kernel (the lab loads it with extraModule(\"xfs\"))");
        Path home = tmp.resolve("xfs");
        StorageDriver d = DmAssumptions.open(home, List.of("dm.fs=xfs", "dm.basesize=320M", "dm.loopdatasize=1G", "dm.loopmetadatasize=16M",
                "dm.xfs_nospace_max_retries=0"));
        String prefix = DmAssumptions.storage(d).devices().prefix;
        try {
            assertEquals("xfs", DevmapperDriverTest.status(d).get("Backing Filesystem"));
            d.create("a", null, CreateOptions.NONE);
            Files.writeString(d.get("a", "").resolve("f"), "x");
            d.create("b", "a", CreateOptions.NONE);
            assertEquals("x", Files.readString(d.get("b", "").resolve("f")), "nouuid lets a snapshot mount beside its origin");
            d.put("b");
            d.put("a");
        } finally {
            d.cleanup();
        }
        DmAssumptions.assertNothingLeft(home, prefix);
    }

    @Test
    void aGivenPoolIsUsedAndLeftInPlace() throws Exception {
        String pool = "strata-test-given-" + ProcessHandle.current().pid();
        Path data = tmp.resolve("data"), meta = tmp.resolve("meta");
        PoolSetup.ensureImage(data, 512L << 20);
        PoolSetup.ensureImage(meta, 8L << 20);
        try (DeviceMapper dm = DeviceMapper.open()) {
            try (LoopDevice dl = LoopDevice.attach(data, false, true); LoopDevice ml = LoopDevice.attach(meta, false, true)) {
                dm.create(pool, null);
                dm.load(pool, List.of(ThinPool.table((512L << 20) / 512, ml.devNumber(), dl.devNumber(), 128)));
                DeviceNodes.ensure(pool, dm.resume(pool));
            }
            try {
                Path home = tmp.resolve("given");
                StorageDriver d = DmAssumptions.open(home, List.of("dm.thinpooldev=/dev/mapper/" + pool, "dm.basesize=64M"));
                assertEquals(pool, DevmapperDriverTest.status(d).get("Pool Name"));
                d.create("a", null, CreateOptions.NONE);
                d.remove("a");
                d.cleanup();
                assertTrue(dm.info(pool).isPresent(), "a given pool stays");
                var e = assertThrows(StorageException.class, () -> DmAssumptions.open(tmp.resolve("other"),
                        List.of("dm.thinpooldev=" + pool, "dm.basesize=64M")).layers());
                assertTrue(e.getMessage().contains("devmapper: Unable to take ownership of thin-pool (" + pool + ")"), e.getMessage());
            } finally {
                dm.remove(pool, false);
                DeviceNodes.remove(pool);
            }
        }
        assertEquals(List.of(), DmAssumptions.loopDevices(tmp));
    }

    @Test
    void aMissingGivenPoolIsNamed() {
        StorageDriver d = DmAssumptions.open(tmp.resolve("h"), List.of("dm.thinpooldev=no-such-pool"));
        var e = assertThrows(StorageException.class, d::status);
        assertTrue(e.getMessage().contains("thin pool no-such-pool (dm.thinpooldev) does not exist"), e.getMessage());
    }
}
