package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.IdMaps;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Overlay's way of showing layers under id maps: idmapped lowers, 500 deep, through either mount call. */
class IdmappedLowersTest extends OnScratchFs {
    static final IdMaps MAP = IdMaps.parse("0:100000:65536", "0:100000:65536");

    private static int uid(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void fiveHundredIdmappedLowersMountAndLeaveNothingAfterPut() throws Exception {
        StorageDriver d = open();
        assumeTrue(ScratchFs.features(d).lowerdirPlus(), "kernel " + dev.strata.nativeio.Kernel.release() + " has no fsconfig lowerdir+");
        chain(d, 500);
        d.createReadWrite("top", id(499), CreateOptions.of(MAP));
        assertEquals("idmapped lowers", d.metadata("top").get("IdMapMethod"), d.metadata("top").toString());
        List<MountInfo> before = MountInfo.under(tmp); // not the machine's: other mounts come and go
        Path root = d.get("top", "");
        try {
            assertEquals(100000, uid(root));
            assertEquals(100000, uid(root.resolve("f0")), "the bottom of 500 idmapped lowers");
            assertEquals("L499", Files.readString(root.resolve("f499")));
            assertEquals(500, Files.list(root).count());
            List<MountInfo> added = MountInfo.under(tmp).stream().filter(m -> !before.contains(m)).toList();
            assertEquals(List.of(root.toString()), added.stream().map(MountInfo::mountPoint).toList(),
                    "one overlay, and no idmapped tree in the mount table");
        } finally {
            d.put("top");
        }
        assertEquals(before, MountInfo.under(tmp));
        assertTrue(status(d).get("Id Maps").startsWith("idmapped lowers"), status(d).toString());
    }

    @Test
    void mount2TakesIdmappedLowersToo() throws Exception {
        // the path for kernels without lowerdir+ (before 6.8): /proc/self/fd/N/l/<LID> in one option string
        StorageDriver d = open("overlay.mount_api=mount");
        chain(d, 20);
        d.createReadWrite("top", id(19), CreateOptions.of(MAP));
        Path root = d.get("top", "");
        try {
            assertEquals(100000, uid(root.resolve("f0")));
            assertEquals(100000, uid(root.resolve("f19")));
        } finally {
            d.put("top");
        }
    }

    @Test
    void theProviderSaysWhetherLowersCanBeIdmapped() {
        Support s = new OverlayProvider().idMapSupport(home);
        assertTrue(s.supported(), s.reason());
        assertEquals("idmapped lowers (overlay on idmapped tmpfs lowers)", s.reason());
    }
}
