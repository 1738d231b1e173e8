package dev.strata.nativeio.btrfs;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The btrfs ioctls against the kernel, on a btrfs made with mkfs.btrfs on a loop file (on a tmpfs of its own). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BtrfsCallsTest {
    private Path dir;
    private Path fs;

    @Test
    void everyLayoutHasTheSizeItsIoctlNumberEncodes() {
        Map<Long, StructLayout> args = Map.ofEntries(
                Map.entry(BtrfsIoctl.SUBVOL_CREATE, BtrfsIoctl.VOL_ARGS), Map.entry(BtrfsIoctl.SNAP_DESTROY, BtrfsIoctl.VOL_ARGS),
                Map.entry(BtrfsIoctl.SNAP_CREATE_V2, BtrfsIoctl.VOL_ARGS_V2), Map.entry(BtrfsIoctl.SNAP_DESTROY_V2, BtrfsIoctl.VOL_ARGS_V2),
                Map.entry(BtrfsIoctl.QUOTA_CTL, BtrfsIoctl.QUOTA_CTL_ARGS), Map.entry(BtrfsIoctl.QGROUP_CREATE, BtrfsIoctl.QGROUP_CREATE_ARGS),
                Map.entry(BtrfsIoctl.QGROUP_LIMIT, BtrfsIoctl.QGROUP_LIMIT_ARGS), Map.entry(BtrfsIoctl.INO_LOOKUP, BtrfsIoctl.INO_LOOKUP_ARGS),
                Map.entry(BtrfsIoctl.TREE_SEARCH, BtrfsIoctl.SEARCH_ARGS), Map.entry(BtrfsIoctl.GET_SUBVOL_INFO, BtrfsIoctl.SUBVOL_INFO_ARGS),
                Map.entry(BtrfsIoctl.GET_SUBVOL_ROOTREF, BtrfsIoctl.ROOTREF_ARGS),
                Map.entry(BtrfsIoctl.INO_LOOKUP_USER, BtrfsIoctl.INO_LOOKUP_USER_ARGS));
        args.forEach((request, layout) -> assertEquals(BtrfsIoctl.argSize(request), layout.byteSize(),
                "size of " + layout + " for ioctl 0x" + Long.toHexString(request)));
        assertEquals(8, BtrfsIoctl.argSize(BtrfsIoctl.SUBVOL_GETFLAGS));
        assertEquals(8, BtrfsIoctl.argSize(BtrfsIoctl.SUBVOL_SETFLAGS));
        assertEquals(104, BtrfsIoctl.SEARCH_KEY.byteSize());
        assertEquals(32, BtrfsIoctl.SEARCH_HEADER.byteSize());
        assertEquals(56, BtrfsIoctl.offset(BtrfsIoctl.VOL_ARGS_V2, "name"));
    }

    @Test
    void aSnapshotIsIndependentOfItsSourceAndKnowsIt() throws IOException {
        Subvolumes.create(fs, "a");
        Path a = fs.resolve("a");
        assertTrue(Subvolumes.isSubvolume(a));
        Files.writeString(a.resolve("f"), "one");
        Subvolumes.snapshot(a, fs, "b", false);
        Path b = fs.resolve("b");
        Files.writeString(b.resolve("f"), "two");
        Files.writeString(a.resolve("g"), "only in a");
        assertEquals("one", Files.readString(a.resolve("f")));
        assertEquals("two", Files.readString(b.resolve("f")));
        assertFalse(Files.exists(b.resolve("g")));

        Subvolumes.Info ia = Subvolumes.info(a), ib = Subvolumes.info(b);
        assertEquals("a", ia.name());
        assertEquals("b", ib.name());
        assertNull(ia.parentUuid(), "a subvolume made empty has no parent uuid");
        assertEquals(ia.uuid(), ib.parentUuid());
        assertNotEquals(ia.id(), ib.id());
        assertEquals(ia.id(), Subvolumes.id(a));
        assertEquals(BtrfsIoctl.FS_TREE_OBJECTID, Subvolumes.id(fs));
        assertEquals(BtrfsIoctl.FS_TREE_OBJECTID, ia.parentId());
        assertTrue(Subvolumes.exists(fs, ib.id()));
        assertFalse(Subvolumes.isSubvolume(a.resolve("f")));
        Files.createDirectory(fs.resolve("plain"));
        assertFalse(Subvolumes.isSubvolume(fs.resolve("plain")));

        Subvolumes.destroy(fs, "b");
        assertFalse(Files.exists(b));
        Subvolumes.destroy(fs, "a");
        assertFalse(Files.exists(a));
    }

    @Test
    void aReadOnlySnapshotRefusesWritesUntilItsFlagIsCleared() throws IOException {
        Subvolumes.create(fs, "ro-src");
        Subvolumes.snapshot(fs.resolve("ro-src"), fs, "ro", true);
        Path ro = fs.resolve("ro");
        assertTrue(Subvolumes.info(ro).readOnly());
        IOException e = assertThrows(IOException.class, () -> Files.writeString(ro.resolve("x"), "x"));
        assertTrue(e.getMessage().contains("Read-only"), e.getMessage());
        Subvolumes.setReadOnly(ro, false);
        assertFalse(Subvolumes.info(ro).readOnly());
        Files.writeString(ro.resolve("x"), "x");
        Subvolumes.destroy(fs, "ro");
        Subvolumes.destroy(fs, "ro-src");
    }

    @Test
    void destroyV1StillWorksAndErrorsNameTheSubvolume() {
        Subvolumes.create(fs, "v1");
        try (Fd d = PosixFiles.open(fs, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0)) {
            Subvolumes.destroyV1(d, fs, "v1");
        }
        assertFalse(Files.exists(fs.resolve("v1")));
        SyscallException e = assertThrows(SyscallException.class, () -> Subvolumes.destroy(fs, "v1"));
        assertTrue(e.is(Errno.ENOENT), e.getMessage());
        assertTrue(e.getMessage().contains(fs.resolve("v1").toString()), e.getMessage());
        SyscallException exists = assertThrows(SyscallException.class, () -> {
            Subvolumes.create(fs, "twice");
            Subvolumes.create(fs, "twice");
        });
        assertTrue(exists.is(Errno.EEXIST), exists.getMessage());
        Subvolumes.destroy(fs, "twice");
        assertThrows(IllegalArgumentException.class, () -> Subvolumes.create(fs, "../escape"));
    }

    @Test
    void nestedSubvolumesAreFoundWithoutAWalkAndBlockTheirOuterOne() throws IOException {
        Subvolumes.create(fs, "outer");
        Path outer = fs.resolve("outer");
        Files.createDirectories(outer.resolve("x/y"));
        Subvolumes.create(outer.resolve("x/y"), "deep");
        Subvolumes.create(outer, "top");
        Subvolumes.create(outer.resolve("top"), "inner"); // nested in a nested one: not outer's
        Set<String> paths = Subvolumes.nested(outer).stream().map(Subvolumes.Nested::path).collect(Collectors.toSet());
        assertEquals(Set.of("x/y/deep", "top"), paths);
        assertEquals(new Subvolumes.Contents(Subvolumes.id(outer), Subvolumes.nested(outer)), Subvolumes.contents(outer),
                "one open gives what the two calls give");
        try (Fd d = PosixFiles.open(outer, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0)) {
            assertEquals(Subvolumes.nestedUnprivileged(d, outer), Subvolumes.nestedFromRootTree(d, outer),
                    "the unprivileged calls and the root tree agree");
        }
        assertEquals(List.of("inner"), Subvolumes.nested(outer.resolve("top")).stream().map(Subvolumes.Nested::path).toList());
        SyscallException busy = assertThrows(SyscallException.class, () -> Subvolumes.destroy(fs, "outer"));
        assertTrue(busy.is(Errno.ENOTEMPTY), busy.getMessage());
        Subvolumes.destroy(outer.resolve("top"), "inner");
        Subvolumes.destroy(outer, "top");
        Subvolumes.destroy(outer.resolve("x/y"), "deep");
        assertTrue(Subvolumes.nested(outer).isEmpty());
        Subvolumes.destroy(fs, "outer");
    }

    @Test
    void moreNestedSubvolumesThanOneCallReturns() {
        Subvolumes.create(fs, "many");
        Path many = fs.resolve("many");
        int n = BtrfsIoctl.MAX_ROOTREFS + 20;
        for (int i = 0; i < n; i++) Subvolumes.create(many, "s" + i);
        List<Subvolumes.Nested> found = Subvolumes.nested(many);
        assertEquals(n, found.size());
        assertEquals(n, found.stream().map(Subvolumes.Nested::id).distinct().count());
        for (Subvolumes.Nested s : found) Subvolumes.destroy(many, s.path());
        Subvolumes.destroy(fs, "many");
    }

    @Test
    void aQgroupLimitFailsWritesWithEdquotAndItsQgroupGoesWithItsSubvolume() throws Exception {
        Subvolumes.create(fs, "q");
        Path q = fs.resolve("q");
        long id = Subvolumes.id(q);
        try {
            Qgroups.enable(fs);
            assertTrue(Qgroups.status(fs).orElseThrow().on());
            Qgroups.limit(q, 4L << 20);
            assertEquals(4L << 20, Qgroups.of(fs, id).orElseThrow().maxReferenced());
            write(q.resolve("small"), 1L << 20);
            IOException full = assertThrows(IOException.class, () -> write(q.resolve("big"), 8L << 20));
            assertTrue(full.getMessage().contains("Disk quota exceeded"), full.getMessage());
            Qgroups.limit(q, 0);
            assertEquals(0, Qgroups.of(fs, id).orElseThrow().maxReferenced());
            write(q.resolve("big"), 8L << 20);

            Subvolumes.destroy(fs, "q");
            try {
                Qgroups.remove(fs, id);
            } catch (SyscallException e) {
                // Linux 6.8+: the qgroup stays until the cleaner has dropped the subvolume, then goes by itself.
                assertTrue(e.is(Errno.EBUSY), e.getMessage());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Qgroups.of(fs, id).isPresent() && System.nanoTime() < deadline) {
                if (!Subvolumes.exists(fs, id)) {
                    try {
                        Qgroups.remove(fs, id);
                    } catch (SyscallException e) {
                        if (!e.is(Errno.ENOENT) && !e.is(Errno.EBUSY)) throw e;
                    }
                }
                Subvolumes.sync(fs); // the cleaner drops destroyed subvolumes after a commit
                Thread.sleep(50);
            }
            assertTrue(Qgroups.of(fs, id).isEmpty(), "qgroup 0/" + id + " of a destroyed subvolume is still there");
        } finally {
            Qgroups.disable(fs);
        }
        assertTrue(Qgroups.status(fs).isEmpty());
        assertTrue(Qgroups.list(fs).isEmpty());
    }

    private static void write(Path f, long bytes) throws IOException {
        byte[] buf = new byte[1 << 20];
        new java.util.Random(1).nextBytes(buf);
        try (OutputStream out = Files.newOutputStream(f)) {
            for (long n = 0; n < bytes; n += buf.length) out.write(buf);
        }
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    @BeforeAll
    void mountLoopBtrfs() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount");
        assumeTrue(Kernel.hasFilesystem("btrfs"), "btrfs is not in /proc/filesystems");
        Path mkfs = Path.of("/sbin/mkfs.btrfs");
        assumeTrue(Files.isExecutable(mkfs), "mkfs.btrfs not installed (Debian: btrfs-progs)");
        dir = Files.createTempDirectory("strata-btrfs-calls-");
        Mounts.mount("strata-test", dir, "tmpfs", 0, "size=512m");
        Path img = dir.resolve("btrfs.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(256L << 20);
        }
        Process p = new ProcessBuilder(mkfs.toString(), "-q", "-f", img.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfs.btrfs failed: " + out);
        fs = Files.createDirectory(dir.resolve("mnt"));
        try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
            Mounts.mount(loop.device().toString(), fs, "btrfs", 0, null);
        }
    }

    @AfterAll
    void unmount() throws IOException {
        if (dir == null) return;
        if (fs != null) Mounts.unmountIfMounted(fs, 0);
        Mounts.unmountIfMounted(dir, Mounts.MNT_DETACH);
        try (var s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
