package dev.strata.driver.overlay;

import dev.strata.api.StorageDriver;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageException;
import dev.strata.nativeio.MountInfo;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Deep stacks through the new mount API, and the one-page limit of the mount(2) fallback. */
class OverlayMountApiTest extends OnScratchFs {
    @Test
    void fiveHundredLowersMountThroughFsconfigLowerdirPlus() throws Exception {
        StorageDriver d = open();
        assumeTrue(ScratchFs.features(d).lowerdirPlus(), "kernel " + dev.strata.nativeio.Kernel.release() + " has no fsconfig lowerdir+");
        chain(d, 500);
        d.createReadWrite("top", id(499), CreateOptions.NONE);
        assertEquals(500, Files.readString(home.resolve("top/lower")).split(":").length);

        Path root = d.get("top", "");
        try {
            assertEquals("L000", Files.readString(root.resolve("f0")), "the bottom of 500 lowers is visible");
            assertEquals("L499", Files.readString(root.resolve("f499")));
            assertEquals(500, Files.list(root).count());
        } finally {
            d.put("top");
        }
        assertFalse(MountInfo.isMountPoint(root));

        // L499 has a child now, so it mounts read-only with its own diff as one more lower: 500 in all.
        Path ro = d.get(id(499), "");
        assertEquals("L000", Files.readString(ro.resolve("f0")));
        d.put(id(499));

        StorageException deep = assertThrows(StorageException.class, () -> d.create("too-deep", "top", CreateOptions.NONE));
        assertTrue(deep.getMessage().contains("max depth exceeded") && deep.getMessage().contains("501"), deep.getMessage());
        assertFalse(d.exists("too-deep"));
    }

    @Test
    void mount2FallbackStopsAtOnePageWithAClearError() throws Exception {
        StorageDriver d = open("overlay.mount_api=mount");
        Map<String, String> status = status(d);
        assertEquals("mount(2)", status.get("Mount API"));
        int fit = Integer.parseInt(status.get("Max Stack Depth").split(" ")[0]);
        assertTrue(fit > 10 && fit < 150, "one page holds tens of lowers with this home: " + status.get("Max Stack Depth"));
        chain(d, fit + 2);

        d.createReadWrite("fits", id(fit - 1), CreateOptions.NONE);
        Path root = d.get("fits", "");
        assertEquals("L000", Files.readString(root.resolve("f0")), fit + " lowers mount with mount(2)");
        d.put("fits");

        // The fit assumes a 64-character id in upperdir and workdir; a shorter one leaves room for a lower or two more.
        String over = "over" + "0".repeat(60);
        d.createReadWrite(over, id(fit + 1), CreateOptions.NONE);
        StorageException e = assertThrows(StorageException.class, () -> d.get(over, ""));
        assertTrue(e.getMessage().contains("one page") && e.getMessage().contains("ENOENT")
                && e.getMessage().contains((fit + 2) + " lower layers"), e.getMessage());
        assertEquals(0, d.references(over));
        assertFalse(Files.exists(home.resolve(over).resolve("merged")));
        cleanupNow(d);
        // The same layers mount with the new API, where the kernel has it.
        StorageDriver modern = open();
        if (ScratchFs.features(modern).lowerdirPlus()) {
            Path root2 = modern.get(over, "");
            assertEquals("L000", Files.readString(root2.resolve("f0")));
            modern.put(over);
        }
    }

    @Test
    void theKernelsOwnReasonIsInTheError() throws Exception {
        StorageDriver d = open();
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("rw", "base", CreateOptions.NONE);
        // Point the short link the lower entry goes through at a file.
        String lid = Files.readString(home.resolve("base/link"));
        Files.delete(home.resolve("l").resolve(lid));
        Files.writeString(home.resolve("not-a-dir"), "");
        Files.createSymbolicLink(home.resolve("l").resolve(lid), Path.of("../not-a-dir"));
        StorageException e = assertThrows(StorageException.class, () -> d.get("rw", ""));
        assertTrue(e.getMessage().contains(lid), e.getMessage());
        if (ScratchFs.features(d).lowerdirPlus()) {
            assertTrue(e.getMessage().contains("is not a directory"), "the kernel's text from the fs context: " + e.getMessage());
        }
        assertEquals(0, d.references("rw"));
    }

    /** A driver that mounts every stack through the new mount API; skipped where the kernel has no lowerdir+. */
    private StorageDriver openOnTheNewApi() throws Exception {
        StorageDriver probe = open();
        assumeTrue(ScratchFs.features(probe).lowerdirPlus(), "kernel " + dev.strata.nativeio.Kernel.release() + " has no fsconfig lowerdir+");
        cleanupNow(probe);
        return open("overlay.mount_api=fsopen");
    }

    @Test
    void theNewApiNamesEachLowerByItsDiffDirNotItsShortLink() throws Exception {
        StorageDriver d = openOnTheNewApi();
        chain(d, 3);
        d.createReadWrite("top", id(2), CreateOptions.NONE);
        Path root = d.get("top", "");
        try {
            assertEquals("L000", Files.readString(root.resolve("f0")));
            MountInfo m = MountInfo.all().stream().filter(i -> i.mountPoint().equals(root.toString())).findFirst().orElseThrow();
            String opts = m.superOptions();
            for (int i = 0; i < 3; i++) {
                assertTrue(opts.contains(home.resolve(id(i)).resolve("diff").toString()), "lower " + id(i) + " by its diff dir: " + opts);
            }
            assertFalse(opts.contains(home.resolve("l") + "/"), "no lower through a short link: " + opts);
        } finally {
            d.put("top");
        }
    }

    @Test
    void aLowerWhoseShortLinkIsGoneFailsThroughTheNewApiNamingTheLink() throws Exception {
        StorageDriver d = openOnTheNewApi();
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("rw", "base", CreateOptions.NONE);
        String lid = Files.readString(home.resolve("base/link"));
        Files.delete(home.resolve("l").resolve(lid)); // not a readable link: passed as before, for the kernel to name
        StorageException e = assertThrows(StorageException.class, () -> d.get("rw", ""));
        assertTrue(e.getMessage().contains("l/" + lid), e.getMessage());
        assertEquals(0, d.references("rw"));
        assertFalse(Files.exists(home.resolve("rw").resolve("merged")));
    }

    @Test
    void aBadMountOptionFailsAtOpenWithTheKernelsWords() {
        StorageException e = assertThrows(StorageException.class, () -> ScratchFs.open(home, "overlay.mountopt=metacopy=bogus"));
        assertTrue(e.getMessage().contains("metacopy"), e.getMessage());
        if (OverlayProbe.supportsLowerdirPlus(fs.root)) {
            assertTrue(e.getMessage().contains("Bad value for 'metacopy'"), e.getMessage());
        }
    }
}
