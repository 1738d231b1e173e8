package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Xattrs;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Options (each validated), the registry entry, and the modes they switch on: userxattr, metacopy, volatile. */
class OverlayOptionsTest extends OnScratchFs {
    @Test
    void theRegistryFindsOverlayByNameAndMobysNameFirstInPriority() {
        DriverRegistry registry = DriverRegistry.load();
        DriverProvider p = registry.require("overlay");
        assertEquals(p, registry.require("overlay2"));
        assertEquals(50, p.priority());
        assertTrue(p.probe(home).supported(), p.probe(home).reason());
        try (StorageDriver d = registry.open(p, fs.root, List.of("overlay.mountopt=nodev"))) {
            assertEquals(home, d.home());
            assertEquals("overlay", d.name());
            d.create("a", null, CreateOptions.NONE);
            assertTrue(d.exists("a"));
        }
    }

    @Test
    void everyOptionIsCheckedAndAnUnknownKeyListsTheValidOnes() {
        DriverRegistry registry = DriverRegistry.load();
        DriverProvider p = registry.require("overlay");
        InvalidOptionException unknown = assertThrows(InvalidOptionException.class, () -> registry.open(p, fs.root, List.of("overlay.colour=red")));
        for (String key : List.of("overlay.size", "overlay.inodes", "overlay.mountopt", "overlay.userxattr", "overlay.mount_api")) {
            assertTrue(unknown.getMessage().contains(key), unknown.getMessage());
        }
        assertTrue(assertThrows(InvalidOptionException.class, () -> registry.open(p, fs.root, List.of("overlay.size=ten")))
                .getMessage().contains("overlay.size"));
        assertTrue(assertThrows(InvalidOptionException.class, () -> registry.open(p, fs.root, List.of("overlay.inodes=-3")))
                .getMessage().contains("overlay.inodes"));
        assertTrue(assertThrows(InvalidOptionException.class, () -> registry.open(p, fs.root, List.of("overlay.userxattr=maybe")))
                .getMessage().contains("overlay.userxattr"));
        InvalidOptionException api = assertThrows(InvalidOptionException.class, () -> registry.open(p, fs.root, List.of("overlay.mount_api=fast")));
        assertTrue(api.getMessage().contains("auto, fsopen or mount"), api.getMessage());
        InvalidOptionException owned = assertThrows(InvalidOptionException.class,
                () -> registry.open(p, fs.root, List.of("overlay.mountopt=upperdir=/tmp")));
        assertTrue(owned.getMessage().contains("set by the driver"), owned.getMessage());
        InvalidOptionException bogus = assertThrows(InvalidOptionException.class,
                () -> registry.open(p, fs.root, List.of("overlay.mountopt=nodev,frobnicate")));
        assertTrue(bogus.getMessage().contains("frobnicate") && bogus.getMessage().contains("metacopy="), bogus.getMessage());
        assertFalse(Files.exists(home), "a refused option changes nothing on disk");
    }

    @Test
    void sizeNeedsProjectQuotasAndSaysSo() {
        StorageException e = assertThrows(StorageException.class, () -> ScratchFs.open(home, "overlay.size=10M"));
        assertTrue(e.getMessage().contains("overlay.size") && e.getMessage().contains("tmpfs"), e.getMessage());
        StorageDriver d = open();
        d.create("base", null, CreateOptions.NONE);
        StorageException perLayer = assertThrows(StorageException.class,
                () -> d.createReadWrite("rw", "base", CreateOptions.of(Map.of("size", "10M"))));
        assertTrue(perLayer.getMessage().contains("pquota"), perLayer.getMessage());
        assertFalse(d.exists("rw"));
        assertTrue(status(d).get("Project Quota").startsWith("false"), status(d).get("Project Quota"));
    }

    @Test
    void userxattrModeKeepsOverlaysMarkersInUserXattrs() throws Exception {
        assumeTrue(Kernel.atLeast(5, 11), "userxattr needs Linux 5.11");
        StorageDriver d = open("overlay.userxattr=true");
        assertEquals("true", status(d).get("userxattr"));
        d.create("base", null, CreateOptions.NONE);
        Files.createDirectories(home.resolve("base/diff/dir"));
        Files.writeString(home.resolve("base/diff/dir/old"), "old");
        Files.writeString(home.resolve("base/diff/gone"), "gone");
        d.createReadWrite("rw", "base", CreateOptions.NONE);
        Path root = d.get("rw", "");
        assertTrue(MountInfo.under(root).getFirst().superOptions().contains("userxattr"), MountInfo.under(root).getFirst().superOptions());
        Files.delete(root.resolve("gone"));
        Files.delete(root.resolve("dir/old"));
        Files.delete(root.resolve("dir"));
        Files.createDirectory(root.resolve("dir"));
        d.put("rw");
        Path upper = home.resolve("rw/diff");
        assertTrue(PosixFiles.lstat(upper.resolve("gone")).isWhiteout());
        assertArrayEquals("y".getBytes(), Xattrs.get(upper.resolve("dir"), "user.overlay.opaque"));
        assertNull(Xattrs.get(upper.resolve("dir"), "trusted.overlay.opaque"));

        // A marker written in user.overlay.* is honoured by the next mount; trusted.overlay.* is not.
        Files.createDirectories(home.resolve("base/diff/t"));
        Files.writeString(home.resolve("base/diff/t/x"), "x");
        Files.createDirectories(upper.resolve("t"));
        Xattrs.set(upper.resolve("t"), "trusted.overlay.opaque", "y".getBytes());
        Path again = d.get("rw", "");
        assertTrue(Files.exists(again.resolve("t/x")), "userxattr mode ignores trusted.overlay.opaque");
        d.put("rw");
    }

    @Test
    void metacopyTurnsNativeDiffOffAndStatusSaysWhy() {
        StorageDriver d = open("overlay.mountopt=metacopy=on");
        Map<String, String> s = status(d);
        assertEquals("false", s.get("Native Overlay Diff"));
        assertTrue(s.get("Naive Diff Reason").contains("metacopy"), s.get("Naive Diff Reason"));
        assertEquals("metacopy=on", s.get("Mount Options"));
        assertFalse(d.capabilities().nativeDiff());
    }

    @Test
    void volatileLayersMountAgainAfterPut() throws Exception {
        StorageDriver d = open("overlay.mountopt=volatile,nodev");
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("scratch", "base", CreateOptions.NONE);
        for (int i = 0; i < 3; i++) {
            Path root = d.get("scratch", "");
            String opts = MountInfo.under(root).getFirst().superOptions() + " " + MountInfo.under(root).getFirst().options();
            assertTrue(opts.contains("volatile") && opts.contains("nodev"), opts);
            Files.writeString(root.resolve("f" + i), "x");
            d.put("scratch");
        }
        assertTrue(Files.exists(home.resolve("scratch/diff/f2")));
    }
}
