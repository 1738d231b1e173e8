package dev.strata.driver.overlay;

import dev.strata.api.StorageDriver;
import dev.strata.api.CreateOptions;
import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.StatFs;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layout, mounting, reference counts and removal, on a tmpfs of the test's own. */
class OverlayLayerTest extends OnScratchFs {
    StorageDriver d;

    @BeforeEach
    void openDriver() {
        d = open();
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    /**
     * put detaches a mount that is busy (a file open in it), as moby's lazy unmount does: the put succeeds, the
     * mount point goes, and a write through the open file is kept.
     */
    @Test
    void putDetachesAMountThatIsBusy() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("top", "base", CreateOptions.NONE);
        Path root = d.get("top", "");
        try (var ch = java.nio.channels.FileChannel.open(root.resolve("held"), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE)) {
            d.put("top");
            assertFalse(MountInfo.isMountPoint(root), "detached while busy");
            assertFalse(Files.exists(root), "the mount point is removed");
            ch.write(java.nio.ByteBuffer.wrap("late".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        }
        assertEquals("late", Files.readString(d.get("top", "").resolve("held")), "the write through the detached mount is kept");
        d.put("top");
        assertFalse(MountInfo.isMountPoint(root));
    }

    /**
     * get keeps a layer's mount options keyed by its lower file and committed state: a layer another process removed
     * and made again under the same id on another parent mounts its new parent, and a layer that got a child since
     * mounts read-only.
     */
    @Test
    void keptMountOptionsFollowTheLayerOnDisk() throws Exception {
        d.create("a", null, CreateOptions.NONE);
        d.create("b", null, CreateOptions.NONE);
        Files.writeString(home.resolve("a/diff/from-a"), "a");
        Files.writeString(home.resolve("b/diff/from-b"), "b");
        d.createReadWrite("c", "a", CreateOptions.NONE);
        for (int i = 0; i < 3; i++) {
            assertTrue(Files.exists(d.get("c", "").resolve("from-a")));
            d.put("c");
        }
        StorageDriver other = open();
        other.remove("c");
        other.create("c", "b", CreateOptions.NONE);
        cleanupNow(other);
        Path root = d.get("c", "");
        assertTrue(Files.exists(root.resolve("from-b")));
        assertFalse(Files.exists(root.resolve("from-a")));
        Files.writeString(root.resolve("written"), "rw");
        d.put("c");
        d.create("child", "c", CreateOptions.NONE);
        root = d.get("c", "");
        assertTrue(Files.exists(root.resolve("written")));
        Path ro = root;
        assertThrows(java.nio.file.FileSystemException.class, () -> Files.writeString(ro.resolve("x"), "no"));
        d.put("c");
    }

    @Test
    void layoutIsMobysOverlay2() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.create("mid", "base", CreateOptions.NONE);
        d.createReadWrite("top", "mid", CreateOptions.NONE);
        assertFalse(Files.exists(home.resolve("top/link")), "a read-write layer is linked when it becomes a parent");
        assertEquals(2, Files.list(home.resolve("l")).count());
        d.createReadWrite("leaf", "top", CreateOptions.NONE);

        assertEquals("rwx------", mode(home.resolve("l")));
        for (String id : List.of("base", "mid", "top")) {
            Path dir = home.resolve(id);
            assertEquals("rwx--x---", mode(dir), id);
            assertEquals("rwxr-xr-x", mode(dir.resolve("diff")), id);
            String lid = Files.readString(dir.resolve("link"));
            assertTrue(lid.matches("[A-Z2-7]{26}"), "link id is 26 base32 characters with no newline: " + lid);
            assertEquals("rw-r--r--", mode(dir.resolve("link")));
            assertEquals(Path.of("../" + id + "/diff"), Files.readSymbolicLink(home.resolve("l").resolve(lid)));
        }
        assertFalse(Files.exists(home.resolve("base/lower")), "a base layer has no lower file");
        assertFalse(Files.exists(home.resolve("base/work")), "a base layer has no work dir");
        String baseLink = Files.readString(home.resolve("base/link"));
        String midLink = Files.readString(home.resolve("mid/link"));
        assertEquals("l/" + baseLink, Files.readString(home.resolve("mid/lower")));
        assertEquals("l/" + midLink + ":l/" + baseLink, Files.readString(home.resolve("top/lower")));
        assertEquals("l/" + Files.readString(home.resolve("top/link")) + ":l/" + midLink + ":l/" + baseLink,
                Files.readString(home.resolve("leaf/lower")));
        assertFalse(Files.exists(home.resolve("top/.link-pending")));
        assertEquals("rwx------", mode(home.resolve("top/work")));
        assertTrue(Files.exists(home.resolve("base/committed")), "a parent is marked committed");
        assertEquals("rw-------", mode(home.resolve("mid/committed")));
        assertTrue(Files.exists(home.resolve("top/committed")), "a read-write parent is marked committed too");
        assertFalse(Files.exists(home.resolve("leaf/committed")));
        assertEquals("mid", d.parent("top"));
        assertNull(d.parent("base"));
        assertEquals(List.of("base", "leaf", "mid", "top"), d.layers().stream().sorted().toList());
    }

    @Test
    void childrenHardLinkTheirParentsLowerFile() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("a", "base", CreateOptions.NONE);
        d.create("b", "base", CreateOptions.NONE);
        String expected = "l/" + Files.readString(home.resolve("base/link"));
        assertEquals(expected, Files.readString(home.resolve("a/lower")));
        assertEquals(expected, Files.readString(home.resolve("base/.child-lower")));
        long ino = PosixFiles.lstat(home.resolve("base/.child-lower")).ino();
        assertEquals(ino, PosixFiles.lstat(home.resolve("a/lower")).ino(), "no inode of its own");
        assertEquals(ino, PosixFiles.lstat(home.resolve("b/lower")).ino());
        assertEquals("rw-r--r--", mode(home.resolve("a/lower")));

        d.remove("a");
        assertEquals(expected, Files.readString(home.resolve("b/lower")), "a sibling's removal leaves the file");
        // a shared file that says something else is not linked: the child gets a file of its own
        Files.delete(home.resolve("base/.child-lower"));
        Files.writeString(home.resolve("base/.child-lower"), "l/WRONG");
        d.createReadWrite("c", "base", CreateOptions.NONE);
        assertEquals(expected, Files.readString(home.resolve("c/lower")));
        assertTrue(PosixFiles.lstat(home.resolve("c/lower")).ino() != PosixFiles.lstat(home.resolve("base/.child-lower")).ino());
        assertMountsAnOverlay("b");
    }

    private void assertMountsAnOverlay(String id) {
        Path root = d.get(id, "");
        try {
            assertEquals(StatFs.OVERLAY_MAGIC, StatFs.of(root).type(), id + " mounts through its lower file and short links");
        } finally {
            d.put(id);
        }
    }

    @Test
    void aLinkingCutShortIsFinishedByTheNextChildOrSweptWithTheLayer() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("rw", "base", CreateOptions.NONE);
        d.createReadWrite("rw2", "base", CreateOptions.NONE);
        // as a kill -9 leaves it: the LID chosen and its short link made, not yet renamed to link
        String lid = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        Files.writeString(home.resolve("rw/.link-pending"), lid);
        Files.createSymbolicLink(home.resolve("l").resolve(lid), Path.of("../rw/diff"));
        Files.writeString(home.resolve("rw2/.link-pending"), "BCDEFGHIJKLMNOPQRSTUVWXYZA");
        Files.createSymbolicLink(home.resolve("l/BCDEFGHIJKLMNOPQRSTUVWXYZA"), Path.of("../rw2/diff"));
        d.createReadWrite("rw3", "base", CreateOptions.NONE);
        Files.writeString(home.resolve("rw3/.link-pending"), ""); // cut short while it was written

        d.createReadWrite("child", "rw", CreateOptions.NONE);
        assertEquals(lid, Files.readString(home.resolve("rw/link")), "the pending LID is the one kept");
        assertFalse(Files.exists(home.resolve("rw/.link-pending")));
        assertTrue(Files.readString(home.resolve("child/lower")).startsWith("l/" + lid + ":l/"));
        assertMountsAnOverlay("child");
        d.createReadWrite("child3", "rw3", CreateOptions.NONE);
        assertTrue(Files.readString(home.resolve("rw3/link")).matches("[A-Z2-7]{26}"), "a fresh LID");
        d.remove("child3");
        d.remove("rw3");

        d.remove("rw2");
        assertFalse(Files.exists(home.resolve("l/BCDEFGHIJKLMNOPQRSTUVWXYZA"), java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "a removed layer's pending short link goes with it");
        d.remove("child");
        d.remove("rw");
        assertFalse(Files.exists(home.resolve("l").resolve(lid), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(1, Files.list(home.resolve("l")).count(), "only base's short link is left");
    }

    @Test
    void getMountsTheStackAndPutUnmountsIt() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        Files.writeString(home.resolve("base/diff/from-base"), "base");
        d.createReadWrite("rw", "base", CreateOptions.NONE);

        Path root = d.get("rw", "");
        assertEquals(home.resolve("rw/merged"), root);
        assertEquals(StatFs.OVERLAY_MAGIC, StatFs.of(root).type());
        assertEquals("base", Files.readString(root.resolve("from-base")));
        Files.writeString(root.resolve("new"), "upper");
        assertEquals("upper", Files.readString(home.resolve("rw/diff/new")), "writes land in the upper dir");
        Files.delete(root.resolve("from-base"));
        assertTrue(PosixFiles.lstat(home.resolve("rw/diff/from-base")).isWhiteout(), "a delete leaves a 0/0 whiteout");
        assertEquals(1, d.references("rw"));

        assertEquals(root, d.get("rw", ""));
        assertEquals(2, d.references("rw"));
        d.put("rw");
        assertTrue(MountInfo.isMountPoint(root), "still mounted while one reference is left");
        d.put("rw");
        assertEquals(0, d.references("rw"));
        assertFalse(MountInfo.isMountPoint(root));
        assertFalse(Files.exists(root), "put removes the merged dir, as moby does");
    }

    @Test
    void baseLayerIsItsDiffDirUnmountedButCounted() {
        d.create("base", null, CreateOptions.NONE);
        Path root = d.get("base", "");
        assertEquals(home.resolve("base/diff"), root);
        assertFalse(MountInfo.isMountPoint(root));
        assertEquals(1, d.references("base"));
        d.put("base");
        assertEquals(0, d.references("base"));
    }

    @Test
    void aLayerWithAChildMountsReadOnly() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.create("mid", "base", CreateOptions.NONE);
        Files.writeString(home.resolve("mid/diff/m"), "mid");
        d.create("child", "mid", CreateOptions.NONE);
        Path root = d.get("mid", "");
        try {
            assertEquals("mid", Files.readString(root.resolve("m")));
            StorageException e = null;
            assertThrows(java.nio.file.FileSystemException.class, () -> Files.writeString(root.resolve("x"), "no"));
            assertTrue(MountInfo.under(root).getFirst().superOptions().contains("ro")
                    || MountInfo.under(root).getFirst().options().contains("ro"));
            assertNull(e);
        } finally {
            d.put("mid");
        }
    }

    @Test
    void referencesHoldAcrossThreadsAndTheLastPutUnmounts() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("rw", "base", CreateOptions.NONE);
        int threads = 8, rounds = 25;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        Path root = d.get("rw", "");
                        if (StatFs.of(root).type() != StatFs.OVERLAY_MAGIC) throw new AssertionError("not mounted while referenced");
                        d.put("rw");
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, d.references("rw"));
        assertFalse(MountInfo.isMountPoint(home.resolve("rw/merged")));
    }

    @Test
    void countsPersistAcrossAReopenAndAFailedMountLeaksNoCount() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("rw", "base", CreateOptions.NONE);
        d.createReadWrite("broken", "base", CreateOptions.NONE);
        d.get("rw", "");
        StorageDriver again = open();
        assertEquals(1, again.references("rw"), "the count is persisted");
        again.put("rw");
        assertFalse(MountInfo.isMountPoint(home.resolve("rw/merged")));

        // A missing work dir makes the kernel refuse the mount.
        Files.delete(home.resolve("broken/work"));
        StorageException e = assertThrows(StorageException.class, () -> d.get("broken", ""));
        assertTrue(e.getMessage().contains("workdir"), "the kernel's own reason is in the error: " + e.getMessage());
        assertEquals(0, d.references("broken"), "a failed mount takes no reference");
        assertFalse(Files.exists(home.resolve("broken/merged")), "a failed mount leaves no merged dir");
    }

    @Test
    void removeUnmountsFirstAndRefusesALayerWithChildren() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        d.create("rw", "base", CreateOptions.NONE);
        String lid = Files.readString(home.resolve("rw/link"));
        Path root = d.get("rw", "");
        d.get("rw", "");

        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> d.remove("base"));
        assertTrue(busy.getMessage().contains("rw"), busy.getMessage());
        assertTrue(d.exists("base"));

        d.remove("rw");
        assertFalse(MountInfo.isMountPoint(root));
        assertFalse(d.exists("rw"));
        assertFalse(Files.exists(home.resolve("rw")));
        assertFalse(Files.exists(home.resolve("l").resolve(lid), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals(0, d.references("rw"));
        d.remove("base");
        assertEquals(List.of(), d.layers());
        assertThrows(LayerUnknownException.class, () -> d.remove("base"));
    }

    @Test
    void badIdsParentsAndDuplicatesAreRefusedAndChangeNothing() throws Exception {
        d.create("base", null, CreateOptions.NONE);
        assertThrows(LayerExistsException.class, () -> d.create("base", null, CreateOptions.NONE));
        assertThrows(ParentUnknownException.class, () -> d.create("x", "nope", CreateOptions.NONE));
        assertThrows(InvalidLayerIdException.class, () -> d.create("../x", null, CreateOptions.NONE));
        assertThrows(InvalidLayerIdException.class, () -> d.get("a/b", ""));
        assertThrows(LayerUnknownException.class, () -> d.get("nope", ""));
        StorageException ro = assertThrows(StorageException.class, () -> d.create("x", "base", CreateOptions.of(Map.of("size", "1G"))));
        assertTrue(ro.getMessage().contains("only supported for ReadWrite"), ro.getMessage());
        StorageException unknown = assertThrows(StorageException.class,
                () -> d.createReadWrite("x", "base", CreateOptions.of(Map.of("color", "red"))));
        assertTrue(unknown.getMessage().contains("size, inodes"), unknown.getMessage());
        assertEquals(List.of("base"), d.layers());
        try (var ds = Files.list(home)) {
            assertEquals(List.of("base", "l"), ds.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals(".strata") && !n.equals(".staging")).sorted().toList());
        }
        try (var ds = Files.list(home.resolve("l"))) {
            assertEquals(1, ds.count(), "no short link was left by the refused creates");
        }
    }

    @Test
    void statusAndMetadataUseMobysKeys() {
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("rw", "base", CreateOptions.NONE);
        Map<String, String> status = status(d);
        assertEquals("tmpfs", status.get("Backing Filesystem"));
        assertEquals("true", status.get("Supports d_type"));
        assertEquals("true", status.get("Native Overlay Diff"));
        assertEquals("false", status.get("userxattr"));
        assertEquals("mount(2) up to one page of options, fsopen+fsconfig(lowerdir+) past it", status.get("Mount API"));
        assertTrue(status.get("Max Stack Depth").startsWith("500"), status.get("Max Stack Depth"));
        assertEquals(List.of("Backing Filesystem", "Supports d_type", "Native Overlay Diff", "userxattr"),
                d.status().subList(0, 4).stream().map(StatusEntry::key).toList());

        Map<String, String> m = d.metadata("rw");
        assertEquals(home.resolve("rw/diff").toString(), m.get("UpperDir"));
        assertEquals(home.resolve("rw/work").toString(), m.get("WorkDir"));
        assertEquals(home.resolve("rw/merged").toString(), m.get("MergedDir"));
        assertEquals(home.resolve("base/diff").toString(), m.get("LowerDir"));
        assertFalse(d.metadata("base").containsKey("LowerDir"));
        assertThrows(LayerUnknownException.class, () -> d.metadata("nope"));
    }

    @Test
    void cleanupUnmountsEverythingAndResetsCounts() {
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("a", "base", CreateOptions.NONE);
        d.createReadWrite("b", "base", CreateOptions.NONE);
        d.get("a", "");
        d.get("b", "");
        d.get("b", "");
        d.get("base", "");
        assertFalse(MountInfo.isMountPoint(home.resolve(".refs")), "the counts need no mount of their own");
        assertTrue(d.status().stream().anyMatch(e -> e.key().equals("Reference Counts")
                && e.value().equals(dev.strata.kit.RunDirectory.forHome(home).resolve("refs").toString())));
        cleanupNow(d);
        assertEquals(List.of(), MountInfo.under(home), "cleanup unmounts the layers");
        for (String id : List.of("a", "b", "base")) assertEquals(0, d.references(id), id);
        assertTrue(d.exists("a") && d.exists("b"), "cleanup keeps the layers");
    }
}
