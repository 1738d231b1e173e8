package dev.strata.driver.aufs;

import dev.strata.api.StorageDriver;
import dev.strata.testsupport.Tmpfs;
import dev.strata.api.Change;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * moby's aufs_test.go cases that need a real aufs mount. Skipped on a kernel without aufs (every mainline kernel,
 * this VM's included); they run unchanged on one that has it (the kernel lab).
 */
class AufsMountTest {
    @TempDir
    Path tmp;
    Tmpfs fs;
    Path home;
    StorageDriver d;

    @BeforeEach
    void open() {
        assumeTrue(Kernel.hasFilesystem("aufs"), "aufs not in /proc/filesystems");
        fs = Tmpfs.at(tmp, "512m");
        home = tmp.resolve("aufs");
        d = AufsTests.open(home);
    }

    @AfterEach
    void close() {
        if (d != null) d.cleanup();
        if (fs != null) fs.close();
    }

    @Test
    void mountWithParent() throws Exception {
        d.create("1", null, null);
        Files.writeString(home.resolve("diff/1/from-base"), "base");
        d.create("2", "1", null);
        Path root = d.get("2", null);
        assertEquals(home.resolve("mnt/2"), root);
        assertTrue(AufsMounts.isAufs(root));
        assertEquals("base", Files.readString(root.resolve("from-base")));
        Files.writeString(root.resolve("from-child"), "child");
        assertTrue(Files.exists(home.resolve("diff/2/from-child")), "writes land in the rw branch");
        Files.delete(root.resolve("from-base"));
        assertTrue(Files.exists(home.resolve("diff/2/.wh.from-base")), "aufs writes a .wh. whiteout");
        assertEquals(1, d.references("2"));
        assertEquals(root, d.get("2", null));
        assertEquals(2, d.references("2"));
        d.put("2");
        assertTrue(AufsMounts.isAufs(root), "still referenced");
        d.put("2");
        assertFalse(MountInfo.isMountPoint(root));
        assertEquals(List.of(new Change("/from-base", Change.Kind.DELETE), new Change("/from-child", Change.Kind.ADD)),
                d.changes("2", "1"));
    }

    @Test
    void removeMountedDir() {
        d.create("1", null, null);
        d.create("2", "1", null);
        Path root = d.get("2", null);
        assertTrue(AufsMounts.isAufs(root));
        d.remove("2");
        assertFalse(MountInfo.isMountPoint(root));
        assertFalse(Files.exists(home.resolve("mnt/2")));
        assertFalse(d.exists("2"));
    }

    @Test
    void aFailedMountLeaksNoReference() throws Exception {
        d.create("1", null, null);
        d.create("2", "1", null);
        AufsLayout.removeAll(home.resolve("diff/1")); // a missing ro branch: aufs refuses the mount
        assertThrows(StorageException.class, () -> d.get("2", null));
        assertEquals(0, d.references("2"));
        assertFalse(MountInfo.isMountPoint(home.resolve("mnt/2")));
    }

    @Test
    void putFlushesPseudoLinksIntoTheRwBranch() throws Exception {
        d.create("1", null, null);
        Files.writeString(home.resolve("diff/1/a"), "linked");
        Files.createLink(home.resolve("diff/1/b"), home.resolve("diff/1/a"));
        d.create("2", "1", null);
        Path root = d.get("2", null);
        Files.writeString(root.resolve("a"), "changed"); // copy-up of a hardlinked file: aufs keeps a pseudo-link
        d.put("2");
        Path plnk = home.resolve("diff/2/.wh..wh.plnk");
        if (Files.isDirectory(plnk)) {
            try (var s = Files.list(plnk)) {
                assertEquals(List.of(), s.toList(), "flushed pseudo-links are removed");
            }
        }
        assertEquals("changed", Files.readString(home.resolve("diff/2/a")));
    }

    @Test
    void statusSaysWhetherDirperm1Works() {
        assertTrue(List.of("true", "false").contains(d.status().get(3).value()));
    }

    @Test
    void naiveDiffAgainstANonParentMounts() throws Exception {
        d.create("1", null, null);
        Files.writeString(home.resolve("diff/1/base-file"), "b");
        d.create("2", "1", null);
        Files.writeString(home.resolve("diff/2/top-file"), "t");
        try (InputStream in = d.diff("2", null)) {
            List<String> names = TarFixtures.read(in).stream().map(TarFixtures.Entry::name).toList();
            assertTrue(names.containsAll(List.of("base-file", "top-file")), names.toString());
        }
        assertEquals(0, d.references("2"), "the naive diff puts what it got");
    }

    /** moby's TestMountMoreThan42Layers: 126 layers, every 10th deleting its parent's file. */
    @Test
    void mountMoreThan42Layers() throws Exception {
        deepStack(home);
    }

    /** moby's TestMountMoreThan42LayersMatchingPathLength: the page boundary falls between or inside branches. */
    @Test
    void mountMoreThan42LayersMatchingPathLength() throws Exception {
        String zeroes = "0";
        while (true) {
            Path h = tmp.resolve(zeroes).resolve("aufs");
            int branch = 77 + h.toString().length();
            int mod = 4095 % branch;
            if (mod == 0 || mod > branch - 2) {
                StorageDriver deep = AufsTests.open(h);
                try {
                    deepStackOn(deep, h);
                } finally {
                    deep.cleanup();
                }
                return;
            }
            zeroes += "0";
        }
    }

    private void deepStack(Path h) throws Exception {
        deepStackOn(d, h);
    }

    private static void deepStackOn(StorageDriver drv, Path h) throws Exception {
        String parent = null;
        int expected = 0;
        for (int i = 1; i < 127; i++) {
            String current = sha256(Integer.toString(i));
            drv.createReadWrite(current, parent, null);
            Path point = drv.get(current, null);
            Files.createFile(point.resolve(current));
            expected++;
            if (i % 10 == 0) {
                Files.delete(point.resolve(parent));
                expected--;
            }
            drv.put(current);
            parent = current;
        }
        Path top = drv.get(parent, null);
        try (var s = Files.list(top)) {
            assertEquals(expected, s.count());
        }
        drv.put(parent);
        assertEquals(List.of(), MountInfo.under(h).stream().map(MountInfo::mountPoint).toList());
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
