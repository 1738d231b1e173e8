package dev.strata.nativeio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The additive linux-native pieces the overlay driver uses: DirEntries, MountRoots, FsContext.setEach. */
class DirEntriesAndMountRootsTest {
    @TempDir
    Path tmp;

    @Test
    void direntsCarryTheirTypes() throws Exception {
        Files.createDirectory(tmp.resolve("d"));
        Files.writeString(tmp.resolve("f"), "x");
        Files.createSymbolicLink(tmp.resolve("l"), Path.of("f"));
        Map<String, Integer> types = DirEntries.list(tmp).stream().collect(Collectors.toMap(DirEntries.Entry::name, DirEntries.Entry::type));
        assertEquals(Map.of("d", DirEntries.DT_DIR, "f", DirEntries.DT_REG, "l", DirEntries.DT_LNK), types);
    }

    @Test
    void aMountRootIsToldApartFromAPlainDirAndAMissingPath() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount");
        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        assertFalse(MountRoots.isMountRoot(mnt));
        assertFalse(MountRoots.isMountRoot(tmp.resolve("missing")));
        Mounts.mount("strata-test", mnt, "tmpfs", 0, "size=1m");
        try {
            assertTrue(MountRoots.isMountRoot(mnt));
            assertFalse(MountRoots.isMountRoot(Files.createDirectory(mnt.resolve("sub"))));
            if (Kernel.atLeast(6, 8)) {
                long id = MountRoots.uniqueMountId(mnt);
                assertTrue(id > 0);
                assertEquals(id, MountRoots.uniqueMountId(mnt.resolve("sub")));
                assertTrue(id != MountRoots.uniqueMountId(tmp), "another mount, another id");
            }
        } finally {
            Mounts.unmount(mnt, 0);
        }
        assertFalse(MountRoots.isMountRoot(mnt));
    }

    @Test
    void setEachAppendsEveryLowerAndNamesTheOneThatFails() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount");
        assumeTrue(Kernel.atLeast(6, 8), "lowerdir+ needs Linux 6.8");
        java.util.List<String> lowers = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path l = Files.createDirectory(tmp.resolve("l" + i));
            Files.writeString(l.resolve("f" + i), "x");
            lowers.add(l.toString());
        }
        Path mnt = Files.createDirectory(tmp.resolve("m"));
        try (FsContext fc = FsContext.open("overlay")) {
            fc.setEach("lowerdir+", lowers).mountAt(mnt, 0);
        }
        try {
            for (int i = 0; i < 3; i++) assertTrue(Files.exists(mnt.resolve("f" + i)));
        } finally {
            Mounts.unmount(mnt, 0);
        }
        Files.writeString(tmp.resolve("file"), "");
        try (FsContext fc = FsContext.open("overlay")) {
            SyscallException e = org.junit.jupiter.api.Assertions.assertThrows(SyscallException.class,
                    () -> fc.setEach("lowerdir+", java.util.List.of(lowers.get(0), tmp.resolve("file").toString())));
            assertTrue(e.getMessage().contains(tmp.resolve("file").toString()) && e.getMessage().contains("not a directory"), e.getMessage());
        }
    }
}
