package dev.strata.driver.devmapper;

import dev.strata.api.DriverOptions;
import dev.strata.api.InvalidOptionException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevmapperOptionsTest {
    static DevmapperOptions parse(String... kv) {
        return DevmapperOptions.from("devmapper", DriverOptions.parse("devmapper", List.of(kv), DevmapperOptions.SPECS));
    }

    static String error(String... kv) {
        return assertThrows(InvalidOptionException.class, () -> parse(kv)).getMessage();
    }

    @Test
    void dockersDefaults() {
        DevmapperOptions o = parse();
        assertEquals(10L << 30, o.baseSize());
        assertFalse(o.baseSizeGiven());
        assertEquals(100L << 30, o.loopDataSize());
        assertEquals(2L << 30, o.loopMetadataSize());
        assertEquals("ext4", o.fs());
        assertEquals(64 << 10, o.blockSize());
        assertEquals(10, o.minFreeSpacePercent());
        assertTrue(o.blkDiscard());
        assertTrue(o.loopBacked());
        assertNull(o.deferredRemoval());
    }

    @Test
    void everyOptionIsRead() {
        DevmapperOptions o = parse("dm.basesize=20G", "dm.fs=xfs", "dm.mkfsarg=-K", "dm.mkfsarg=-b size=4096",
                "dm.mountopt=noatime", "dm.mountopt=nodiratime", "dm.blocksize=512K", "dm.min_free_space=5%",
                "dm.use_deferred_removal=false", "dm.use_deferred_deletion=false", "dm.xfs_nospace_max_retries=0",
                "DM.LoopDataSize=1G", "dm.thinpooldev=/dev/mapper/vg-pool", "dm.override_udev_sync_check=true");
        assertEquals(20L << 30, o.baseSize());
        assertTrue(o.baseSizeGiven());
        assertEquals(List.of("-K", "-b size=4096"), o.mkfsArgs());
        assertEquals("noatime,nodiratime", o.mountOptions());
        assertEquals(512 << 10, o.blockSize());
        assertEquals(5, o.minFreeSpacePercent());
        assertEquals("vg-pool", o.thinPoolDevice());
        assertFalse(o.blkDiscard(), "no discard by default on a given pool, as in moby");
        assertEquals(1L << 30, o.loopDataSize());
        assertEquals(0L, o.xfsNospaceMaxRetries());
    }

    @Test
    void unknownKeysListTheValidOnes() {
        String m = error("dm.directlvm_device=/dev/xvdf");
        assertTrue(m.contains("unknown option dm.directlvm_device"), m);
        assertTrue(m.contains("dm.basesize") && m.contains("dm.thinpooldev") && m.contains("dm.min_free_space"), m);
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(error("dm.fs=btrfs").contains("devmapper: Unsupported filesystem btrfs"));
        assertTrue(error("dm.blocksize=100K").contains("multiples of 64K"));
        assertTrue(error("dm.blocksize=2G").contains("64K to 1G"));
        assertTrue(error("dm.min_free_space=10").contains("percentage"));
        assertTrue(error("dm.min_free_space=100%").contains("between 0% and 99%"));
        assertTrue(error("dm.basesize=12q").contains("dm.basesize"));
        assertTrue(error("dm.basesize=4k").contains("too small"));
        assertTrue(error("dm.loopmetadatasize=17G").contains("16G"));
        assertTrue(error("dm.loopdatasize=64k").contains("too small"));
        assertTrue(error("dm.use_deferred_removal=perhaps").contains("not a boolean"));
        assertTrue(error("dm.use_deferred_removal=false", "dm.use_deferred_deletion=true")
                .contains("Deferred deletion can not be enabled as deferred removal is not enabled"));
        assertTrue(error("dm.thinpooldev=p", "dm.datadev=/dev/sdb", "dm.metadatadev=/dev/sdc").contains("cannot be combined"));
        assertTrue(error("dm.datadev=/dev/sdb").contains("must be given together"));
        assertTrue(error("dm.xfs_nospace_max_retries=3").contains("dm.fs=xfs"));
        assertTrue(error("dm.fs=xfs", "dm.xfs_nospace_max_retries=-1").contains("negative"));
    }
}
