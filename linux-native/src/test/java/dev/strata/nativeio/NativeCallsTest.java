package dev.strata.nativeio;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Each binding exercised against this kernel, on a tmpfs the test mounts itself (root only). */
class NativeCallsTest {
    @TempDir
    Path tmp;
    Path fs;

    @BeforeEach
    void mountScratch() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount (running as uid " + Kernel.euid() + ")");
        fs = Files.createDirectory(tmp.resolve("fs"));
        Mounts.mount("strata-test", fs, "tmpfs", 0, "size=64m");
    }

    @AfterEach
    void unmountScratch() {
        if (fs != null) Mounts.unmountAllUnder(tmp);
        assertTrue(MountInfo.under(tmp).isEmpty(), "no mount left under " + tmp);
    }

    /** The calls of get and put on string paths, through one thread's scratch: answers, not exceptions. */
    @Test
    void scratchCallsOnStringPaths() throws Exception {
        String dir = fs.resolve("merged").toString();
        assertEquals(0, PosixFiles.tryMkdirat(null, dir, 0700));
        assertEquals(Errno.EEXIST, PosixFiles.tryMkdirat(null, dir, 0700));
        assertTrue(PosixFiles.lexists(dir));
        assertFalse(PosixFiles.lexists(dir + "/none"));
        Path file = Files.writeString(fs.resolve("committed"), "");
        assertFalse(PosixFiles.lexists(file + "/under-a-file"), "ENOTDIR is missing too");
        assertEquals(Mounts.Unmounted.NOT_A_MOUNT, Mounts.unmountIfPresent(dir, Mounts.MNT_DETACH));
        assertEquals(0, PosixFiles.tryUnlinkat(null, dir, PosixFiles.AT_REMOVEDIR));
        assertEquals(Mounts.Unmounted.ABSENT, Mounts.unmountIfPresent(dir, Mounts.MNT_DETACH));
        assertFalse(PosixFiles.lexists(dir));
        String longName = fs.resolve("x".repeat(200)).toString(); // past the scratch's first kilobyte with the rest
        assertEquals(Errno.ENOENT, PosixFiles.tryUnlinkat(null, longName + "/" + "y".repeat(200) + "/" + "z".repeat(200) + "/" + "w".repeat(200) + "/" + "v".repeat(200), 0));
    }

    @Test
    void readSmallReadsWholeFilesAndSaysMissingWithNull() throws Exception {
        Path small = Files.writeString(fs.resolve("lower"), "l/ABC:l/DEF");
        assertEquals("l/ABC:l/DEF", new String(PosixFiles.readSmall(small, 1 << 20), StandardCharsets.US_ASCII));
        byte[] big = new byte[20_000]; // past the first buffer: read in growing steps
        for (int i = 0; i < big.length; i++) big[i] = (byte) ('a' + i % 26);
        Path bigFile = Files.write(fs.resolve("big"), big);
        assertArrayEquals(big, PosixFiles.readSmall(bigFile, 1 << 20));
        assertArrayEquals(big, PosixFiles.readSmall(bigFile, big.length));
        assertArrayEquals(new byte[0], PosixFiles.readSmall(Files.createFile(fs.resolve("empty")), 16));
        assertNull(PosixFiles.readSmall(fs.resolve("missing"), 16));
        assertNull(PosixFiles.readSmall(small.resolve("under-a-file"), 16), "ENOTDIR is missing too");
        SyscallException tooBig = assertThrows(SyscallException.class, () -> PosixFiles.readSmall(bigFile, big.length - 1));
        assertEquals(Errno.EFBIG, tooBig.errno());
        SyscallException dir = assertThrows(SyscallException.class, () -> PosixFiles.readSmall(fs, 16));
        assertEquals(Errno.EISDIR, dir.errno());
    }

    @Test
    void statfsSeesTheTmpfsAndMountinfoListsIt() {
        assertEquals(StatFs.TMPFS_MAGIC, StatFs.of(fs).type());
        assertEquals("tmpfs", StatFs.of(fs).typeName());
        assertTrue(MountInfo.isMountPoint(fs));
        assertEquals("tmpfs", MountInfo.under(tmp).getFirst().fsType());
    }

    @Test
    void errnoIsCapturedAndNamed() {
        SyscallException e = assertThrows(SyscallException.class, () -> Mounts.unmount(tmp.resolve("nosuch"), 0));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("umount2", e.syscall());
        assertTrue(e.getMessage().contains("ENOENT (No such file or directory)"), e.getMessage());
        SyscallException notMounted = assertThrows(SyscallException.class, () -> Mounts.unmount(tmp, 0));
        assertEquals(Errno.EINVAL, notMounted.errno());
    }

    @Test
    void binaryXattrsRoundTripByteForByte() throws Exception {
        Path f = Files.writeString(fs.resolve("f"), "x");
        byte[] value = {(byte) 0xff, (byte) 0xfe, 0, (byte) 0x80, 1};
        Xattrs.set(f, "trusted.strata.bin", value);
        assertArrayEquals(value, Xattrs.get(f, "trusted.strata.bin"));
        assertTrue(Xattrs.list(f).contains("trusted.strata.bin"));
        assertNull(Xattrs.get(f, "trusted.strata.absent"));
        Xattrs.remove(f, "trusted.strata.bin");
        assertNull(Xattrs.get(f, "trusted.strata.bin"));
        byte[] big = new byte[3000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) i;
        Xattrs.set(f, "trusted.strata.big", big);
        assertArrayEquals(big, Xattrs.get(f, "trusted.strata.big"));
    }

    @Test
    void mknodMakesAnOverlayWhiteoutAndStatxSeesIt() {
        PosixFiles.mknod(fs.resolve("wh"), Stat.S_IFCHR, 0);
        Stat s = PosixFiles.lstat(fs.resolve("wh"));
        assertTrue(s.isWhiteout());
        PosixFiles.mknod(fs.resolve("fifo"), Stat.S_IFIFO | 0640, 0);
        Stat fifo = PosixFiles.lstat(fs.resolve("fifo"));
        assertEquals(Stat.S_IFIFO, fifo.type());
        assertEquals(0640, fifo.permissions());
        PosixFiles.mknod(fs.resolve("blk"), Stat.S_IFBLK | 0600, PosixFiles.makedev(7, 200));
        Stat blk = PosixFiles.lstat(fs.resolve("blk"));
        assertEquals(7, blk.rdevMajor());
        assertEquals(200, blk.rdevMinor());
    }

    @Test
    void nanosecondTimesAndOwnershipOnASymlinkItself() throws Exception {
        Path target = Files.writeString(fs.resolve("target"), "t");
        Path link = Files.createSymbolicLink(fs.resolve("link"), Path.of("target"));
        long t = 1_600_000_000_123_456_789L;
        PosixFiles.utimensat(null, link.toString(), t, t, PosixFiles.AT_SYMLINK_NOFOLLOW);
        PosixFiles.fchownat(null, link.toString(), 3000000, 3000001, PosixFiles.AT_SYMLINK_NOFOLLOW);
        Stat s = PosixFiles.lstat(link);
        assertEquals(t, s.mtimeNanos());
        assertEquals(3000000, s.uid());
        assertEquals(3000001, s.gid());
        assertTrue(s.isSymlink());
        assertEquals("target", PosixFiles.readlinkat(null, link.toString()));
        assertEquals(0, PosixFiles.lstat(target).uid());
        assertTrue(Files.getLastModifiedTime(target).compareTo(FileTime.fromMillis(t / 1_000_000)) != 0);
    }

    @Test
    void openat2InRootKeepsDotDotAndAbsoluteSymlinksInside() throws Exception {
        Path root = Files.createDirectory(fs.resolve("root"));
        Files.writeString(fs.resolve("secret"), "outside");
        Files.createSymbolicLink(root.resolve("abs"), fs.resolve("secret"));
        Files.createSymbolicLink(root.resolve("up"), Path.of("../secret"));
        try (Fd r = PosixFiles.open(root, PosixFiles.O_PATH | PosixFiles.O_DIRECTORY, 0)) {
            SyscallException beneath = assertThrows(SyscallException.class,
                    () -> PosixFiles.openat2(r, "up", PosixFiles.O_RDONLY, 0, PosixFiles.RESOLVE_BENEATH));
            assertEquals(Errno.EXDEV, beneath.errno());
            // In-root: "../secret" resolves to root/secret, which does not exist.
            assertThrows(SyscallException.class,
                    () -> PosixFiles.openat2(r, "abs", PosixFiles.O_RDONLY, 0, PosixFiles.RESOLVE_IN_ROOT));
            try (Fd created = PosixFiles.openat2(r, "../made", PosixFiles.O_WRONLY | PosixFiles.O_CREAT, 0644, PosixFiles.RESOLVE_IN_ROOT)) {
                assertTrue(created.fd() >= 0);
            }
        }
        assertTrue(Files.exists(root.resolve("made")));
        assertFalse(Files.exists(fs.resolve("made")));
        assertEquals("outside", Files.readString(fs.resolve("secret")));
    }

    @Test
    void fdPathReachesTheOpenedFile() throws Exception {
        Path f = Files.writeString(fs.resolve("data"), "hello");
        try (Fd fd = PosixFiles.open(f, PosixFiles.O_RDONLY, 0)) {
            assertEquals("hello", Files.readString(fd.path(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void sparseHolesAreFoundWithSeekData() throws Exception {
        Path f = fs.resolve("sparse");
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[]{1}), 10L << 20);
        }
        try (Fd fd = PosixFiles.open(f, PosixFiles.O_RDONLY, 0)) {
            long data = PosixFiles.lseek(fd, 0, PosixFiles.SEEK_DATA);
            assertTrue(data >= (8L << 20), "first data at " + data);
            assertEquals(-1, PosixFiles.lseek(fd, (10L << 20) + 1, PosixFiles.SEEK_DATA));
        }
    }

    @Test
    void newMountApiStacksMoreLowersThanOnePageAllows() throws Exception {
        assumeTrue(Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        assumeTrue(Kernel.atLeast(6, 8), "lowerdir+ needs kernel 6.8, this is " + Kernel.release());
        List<Path> lowers = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            Path l = Files.createDirectories(fs.resolve("lower-directory-with-a-long-name-" + i));
            Files.writeString(l.resolve("f" + i), "" + i);
            lowers.add(l);
        }
        Path upper = Files.createDirectory(fs.resolve("upper"));
        Path work = Files.createDirectory(fs.resolve("work"));
        Path merged = Files.createDirectory(fs.resolve("merged"));
        try (FsContext ctx = FsContext.open("overlay")) {
            for (Path l : lowers) ctx.set("lowerdir+", l.toString());
            ctx.set("upperdir", upper.toString()).set("workdir", work.toString());
            ctx.mountAt(merged, 0);
        }
        try {
            assertEquals(StatFs.OVERLAY_MAGIC, StatFs.of(merged).type());
            assertEquals("0", Files.readString(merged.resolve("f0")));
            assertEquals("149", Files.readString(merged.resolve("f149")));
        } finally {
            Mounts.unmount(merged, 0);
        }
    }

    @Test
    void theKernelsOwnReasonIsInTheException() {
        assumeTrue(Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        try (FsContext ctx = FsContext.open("overlay")) {
            SyscallException e = assertThrows(SyscallException.class, () -> ctx.set("nosuchoption", "1"));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("nosuchoption"), e.getMessage());
        }
    }
}
