package dev.strata.nativeio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The size walk (moby's directory.Size) and the inode walk (containerd's fs.DiskUsage, du), which share one walker. */
class TreesTest {
    @TempDir
    Path tmp;

    /** a/f (10 bytes) with a second link a/g, a symlink l to a/f, an empty directory b. */
    private Path tree() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        Files.writeString(Files.createDirectory(root.resolve("a")).resolve("f"), "0123456789");
        Files.createLink(root.resolve("a/g"), root.resolve("a/f"));
        Files.createSymbolicLink(root.resolve("l"), Path.of("a/f"));
        Files.createDirectory(root.resolve("b"));
        return root;
    }

    /** Inodes counted, bytes of non-directories, and 512-byte blocks, as a walk reports them. */
    private static long[] inodes(Path root, boolean sameFilesystem) {
        long[] acc = {0, 0, 0};
        Trees.inodes(root, sameFilesystem, (directory, size, blocks) -> {
            acc[0]++;
            if (!directory) acc[1] += size;
            acc[2] += blocks;
        });
        return acc;
    }

    private static long blocks(Path root, String... names) {
        long sum = 0;
        for (String n : names) sum += PosixFiles.lstat(n.isEmpty() ? root : root.resolve(n)).blocks();
        return sum;
    }

    @Test
    void sizeCountsAHardLinkOnceAndASymlinkAsItsTargetsLength() throws Exception {
        Path root = tree();
        assertEquals(10 + "a/f".length(), Trees.size(root));
        assertEquals(10, Trees.size(root, Set.of("l")), "a top-level entry left out");
    }

    @Test
    void inodesCountsEveryInodeOnceTheRootIncluded() throws Exception {
        Path root = tree();
        long[] r = inodes(root, true);
        assertEquals(5, r[0], "root, a, a/f = a/g, l, b");
        assertEquals(10 + "a/f".length(), r[1]);
        assertEquals(blocks(root, "", "a", "a/f", "l", "b"), r[2]);
        assertArrayEquals(r, inodes(root, false), "no mount below: both ways count the same");
    }

    @Test
    void inodesLeavesAMountBelowOutOnlyWhenAskedTo() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount");
        Path root = tree();
        Path mnt = Files.createDirectory(root.resolve("m"));
        Mounts.mount("strata-test", mnt, "tmpfs", 0, "size=1m");
        try {
            Files.writeString(mnt.resolve("x"), "12345");
            long[] own = inodes(root, true);
            assertEquals(5, own[0], "the mount point and what is under it left out");
            assertEquals(10 + 3, own[1]);
            assertEquals(blocks(root, "", "a", "a/f", "l", "b"), own[2]);
            long[] all = inodes(root, false);
            assertEquals(7, all[0], "the mounted root and its file counted too");
            assertEquals(10 + 3 + 5, all[1]);
            assertEquals(blocks(root, "", "a", "a/f", "l", "b", "m", "m/x"), all[2]);
        } finally {
            Mounts.unmount(mnt, Mounts.MNT_DETACH);
        }
    }
}
