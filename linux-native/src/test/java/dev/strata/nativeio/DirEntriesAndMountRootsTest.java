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
        } finally {
            Mounts.unmount(mnt, 0);
        }
        assertFalse(MountRoots.isMountRoot(mnt));
    }
}
