package dev.strata.kit;

import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.Trees;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kit's contract over a plain directory storage: validation, all-or-nothing apply and remove, crash marks. */
class KitTest {
    @TempDir
    Path tmp;
    Path home;
    DirStorage storage;
    StorageDriver d;

    @BeforeEach
    void open() {
        home = tmp.resolve("dirs");
        storage = new DirStorage(home);
        d = DriverKit.wrap(storage);
    }

    private StorageDriver reopen() {
        storage = new DirStorage(home);
        return d = DriverKit.wrap(storage);
    }

    @Test
    void nullOptionsAndParentsMeanNone() {
        d.create("a", null, null);
        d.createReadWrite("b", "a", null);
        d.createReadWrite("c", "", null);
        assertNull(d.parent("c"));
        assertEquals("a", d.parent("b"));
    }

    @Test
    void existsAnswersNoForAMissingLayerAndThrowsForABadId() {
        assertFalse(d.exists("nope"));
        assertThrows(InvalidLayerIdException.class, () -> d.exists("../x"));
        assertThrows(InvalidLayerIdException.class, () -> d.exists(""));
    }

    @Test
    void everyKindOfFailedApplyLeavesALayerExactlyAsItWas() throws Exception {
        d.create("empty", null, null);
        d.create("full", null, null);
        d.applyDiff("full", null, tar(t -> t.dir("etc").file("etc/a", "A").file("b", "B")));
        d.create("child", "full", null); // to show the index is untouched too
        d.create("leaf", null, null);
        d.applyDiff("leaf", null, tar(t -> t.file("x", "X")));
        byte[] good = bytes(t -> t.file("new", "N").file("etc/a", "A2"));
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("garbage", "garbage\n".getBytes(StandardCharsets.UTF_8));
        bad.put("truncated tar", Arrays.copyOf(good, 700));
        bad.put("truncated gzip", Arrays.copyOf(gzip(good), 40));
        bad.put("bzip2", new byte[]{'B', 'Z', 'h', '9', 1, 2, 3});
        bad.put("xz", new byte[]{(byte) 0xfd, '7', 'z', 'X', 'Z', 0, 1, 2});
        bad.put("refused after good entries", bytes(t -> t.file("ok", "fine").file("../escape", "out")));
        for (String layer : List.of("empty", "leaf")) {
            Map<String, String> before = describe(storage.dir(layer));
            for (Map.Entry<String, byte[]> c : bad.entrySet()) {
                StorageException e = assertThrows(StorageException.class,
                        () -> d.applyDiff(layer, null, new ByteArrayInputStream(c.getValue())), c.getKey());
                assertTrue(e.getMessage().endsWith("layer " + layer + " unchanged"), c.getKey() + ": " + e.getMessage());
                assertTrue(d.exists(layer), c.getKey());
                assertEquals(before, describe(storage.dir(layer)), c.getKey() + " changed layer " + layer);
                assertTrue(DirStorage.gone(storage.staging(layer)), c.getKey() + " left its staged copy");
            }
        }
        assertEquals(List.of(), list(RunDirectory.forHome(home).resolve(DriverKit.APPLYING)), "no apply is left marked");
        // a layer with children is refused before anything is read
        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> d.applyDiff("full", null, new ByteArrayInputStream(good)));
        assertTrue(busy.getMessage().contains("(child)") && busy.getMessage().endsWith("layer full unchanged"), busy.getMessage());
    }

    @Test
    void aMountedLayerIsNotAppliedToAndAnUnmountedOneIs() throws Exception {
        d.create("a", null, null);
        d.get("a", "");
        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> d.applyDiff("a", null, tar(t -> t.file("f", "x"))));
        assertTrue(busy.getMessage().contains("mounted"), busy.getMessage());
        d.put("a");
        assertEquals(1L, d.applyDiff("a", null, tar(t -> t.file("f", "x"))));
        assertEquals("x", Files.readString(storage.dir("a").resolve("f")));
    }

    /**
     * The staged copy shares the layer's inodes (hardlinks); the apply must replace names, never write into them,
     * or a failure half way would have changed the layer after all. Checked through a link kept outside the layer.
     */
    @Test
    void anApplyNeverWritesIntoTheLayersOwnFiles() throws Exception {
        d.create("a", null, null);
        d.applyDiff("a", null, tar(t -> t.dir("d").file("d/f", "old").file("g", "gone soon").file("h", "linked")));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        for (String n : List.of("d/f", "g", "h")) Files.createLink(outside.resolve(n.replace('/', '_')), storage.dir("a").resolve(n));
        Stat before = PosixFiles.lstat(outside.resolve("d_f"));

        InputStream overwrite = tar(t -> t.file("d/f", "NEW CONTENT").whiteout(".wh.g").hardlink("h2", "h").dir("d"));
        d.applyDiff("a", null, overwrite);
        assertEquals("NEW CONTENT", Files.readString(storage.dir("a").resolve("d/f")));
        assertFalse(Files.exists(storage.dir("a").resolve("g")));
        assertEquals("old", Files.readString(outside.resolve("d_f")), "the old inode was not written");
        assertEquals(before.mode(), PosixFiles.lstat(outside.resolve("d_f")).mode());
        assertEquals(before.mtimeNanos(), PosixFiles.lstat(outside.resolve("d_f")).mtimeNanos());
        assertEquals("gone soon", Files.readString(outside.resolve("g")));
        assertEquals(3, PosixFiles.lstat(outside.resolve("h")).nlink(), "h and h2 in the layer, and the link outside");
    }

    @Test
    void aFailedRemoveLeavesNoStateInWhichTheCallsDisagree() throws Exception {
        d.create("base", null, null);
        d.create("x", "base", null);
        storage.failRemoveAfterRecord = true;
        StorageException e = assertThrows(StorageException.class, () -> d.remove("x"));
        assertTrue(e.getMessage().contains("no longer reported"), e.getMessage());
        assertFalse(d.exists("x"));
        assertFalse(d.layers().contains("x"));
        assertThrows(LayerUnknownException.class, () -> d.metadata("x"));
        assertThrows(LayerUnknownException.class, () -> d.get("x", ""));
        storage.failRemoveAfterRecord = false;
        d.remove("base"); // x is not its child any more
        d.remove("x"); // finishes it
        assertTrue(DirStorage.gone(storage.dir("x")));
        d.create("x", null, null);
        assertTrue(d.exists("x"));
    }

    @Test
    void aFailedCreateLeavesNothing() {
        d.create("base", null, null);
        storage.failCreateBeforeRecord = true;
        assertThrows(StorageException.class, () -> d.create("x", "base", null));
        storage.failCreateBeforeRecord = false;
        assertFalse(d.exists("x"));
        assertTrue(DirStorage.gone(storage.dir("x")));
        d.remove("base"); // no child was left in the index
        d.create("x", null, null);
        assertThrows(LayerExistsException.class, () -> d.create("x", null, null));
    }

    @Test
    void whatACrashLeftIsFinishedAtTheNextOpen() throws Exception {
        d.create("base", null, null);
        d.create("done", "base", null);
        d.create("half-removed", "base", null);
        d.create("applied", null, null);
        d.applyDiff("applied", null, tar(t -> t.file("kept", "k")));
        Path marks = Files.createDirectories(RunDirectory.forHome(home).resolve(DriverKit.INCOMPLETE));
        // a create killed before its commit point: a mark naming the parent, a partial directory, an index entry
        Files.createDirectories(storage.dir("half-made").resolve("partial"));
        Path index = RunDirectory.forHome(home).resolve("children");
        Files.createDirectories(index.resolve("base"));
        Files.createFile(index.resolve("base/half-made"));
        Files.writeString(marks.resolve("half-made"), "create base");
        // a create killed after its commit point, before the mark was cleared
        Files.writeString(marks.resolve("done"), "create base");
        // a remove killed half way
        Files.writeString(marks.resolve("half-removed"), ""); // a remove's mark is empty
        // an apply killed half way
        Path applying = Files.createDirectories(RunDirectory.forHome(home).resolve(DriverKit.APPLYING));
        Files.writeString(applying.resolve("applied"), "apply");
        Files.createDirectories(storage.staging("applied").resolve("junk"));

        StorageDriver r = reopen();
        assertTrue(DirStorage.gone(storage.dir("half-made")), "the create cut short is undone");
        assertTrue(r.exists("done"), "the create past its commit point stays");
        assertFalse(r.exists("half-removed"));
        assertTrue(DirStorage.gone(storage.dir("half-removed")), "the remove is finished");
        assertTrue(DirStorage.gone(storage.staging("applied")), "the apply's copy is dropped");
        assertEquals("k", Files.readString(storage.dir("applied").resolve("kept")));
        assertEquals(List.of(), list(marks));
        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> r.remove("base"));
        assertTrue(busy.getMessage().contains("(done)"), "the index lost only the undone create: " + busy.getMessage());
    }

    @Test
    void theChildrenIndexIsBuiltOnceForAHomeMadeWithoutIt() throws Exception {
        d.create("base", null, null);
        d.create("child", "base", null);
        // As after a reboot (the index is in the run directory, a tmpfs), with the index an older Strata kept in the home.
        Path index = RunDirectory.forHome(home).resolve("children");
        Files.walk(index).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        Files.createDirectories(home.resolve(".strata/children/base"));
        Files.createFile(home.resolve(".strata/children/base/child"));
        StorageDriver r = reopen();
        assertThrows(LayerBusyException.class, () -> r.remove("base"));
        assertTrue(Files.exists(index.resolve(".built")));
        assertFalse(Files.exists(home.resolve(".strata/children")), "the index an older Strata kept is gone");
        r.remove("child");
        r.remove("base");
    }

    /**
     * After a reboot or a stale sweep of the run directory no mark names a create cut short: the first open on the new
     * run directory asks the storage ({@link LayerStorage#cutShort}) and removes what it found, once; layers stay.
     */
    @Test
    void aNewRunDirectorySweepsWhatTheStorageFindsCutShort() throws Exception {
        d.create("base", null, null);
        d.applyDiff("base", null, tar(t -> t.file("kept", "k")));
        d.create("child", "base", null);
        Files.createDirectories(storage.dir("half-made").resolve("partial"));
        Files.writeString(storage.dir("half-made").resolve("partial/file"), "half");
        Path run = RunDirectory.forHome(home);
        Trees.delete(run);

        StorageDriver r = reopen();
        assertTrue(DirStorage.gone(storage.dir("half-made")), "what the create cut short left");
        assertEquals(List.of("base", "child"), r.layers().stream().sorted().toList());
        assertEquals("k", Files.readString(storage.dir("child").resolve("kept")));
        assertTrue(Files.exists(run.resolve(KitRecovery.SWEPT)));
        Files.createDirectories(storage.dir("later"));
        reopen();
        assertTrue(Files.exists(storage.dir("later")), "once per run directory, not on every open");
    }

    /**
     * An apply's mark is lost with the run directory too: what it staged is found by looking and dropped, and a layer
     * a commit without RENAME_EXCHANGE had set aside ({@code .apply-<id>/replaced}) when it was killed is put back whole.
     */
    @Test
    void aNewRunDirectoryDropsWhatAnApplyCutShortLeftAndPutsBackALayerSetAside() throws Exception {
        d.create("staged", null, null);
        d.applyDiff("staged", null, tar(t -> t.file("kept", "k")));
        d.create("aside", null, null);
        d.applyDiff("aside", null, tar(t -> t.file("kept", "a")));
        Files.createDirectories(storage.staging("staged").resolve("staged/half"));  // killed while the tar went in
        Path old = Files.createDirectories(storage.staging("aside")).resolve("replaced");
        Files.move(storage.dir("aside"), old);                                     // killed between the two renames
        Files.createDirectories(storage.staging("aside").resolve("staged/applied"));
        Trees.delete(RunDirectory.forHome(home));

        StorageDriver r = reopen();
        assertEquals(List.of("aside", "staged"), r.layers().stream().sorted().toList());
        assertEquals("k", Files.readString(storage.dir("staged").resolve("kept")));
        assertEquals("a", Files.readString(storage.dir("aside").resolve("kept")), "the layer set aside is back, as it was");
        for (Path p : List.of(storage.staging("staged"), storage.staging("aside"), old)) assertTrue(DirStorage.gone(p), p + " swept");
    }

    /**
     * A mark held by a live process is a create or remove it is running now, outside the home lock: its directory is
     * not swept on a new run directory, and is finished through the mark once that process is gone.
     */
    @Test
    void aNewRunDirectoryLeavesWhatALiveProcessHasMarked() throws Exception {
        d.create("base", null, null);
        Files.createDirectories(storage.dir("being-made").resolve("partial"));
        Trees.delete(RunDirectory.forHome(home));
        Path mark = Files.createDirectories(RunDirectory.forHome(home).resolve(DriverKit.INCOMPLETE)).resolve("being-made");
        Files.writeString(mark, "create base");
        Process holder = new ProcessBuilder("sh", "-c", "exec 9<>\"$0\" && flock -x 9 && echo held && exec sleep 120", mark.toString())
                .redirectErrorStream(true).start();
        try {
            assertEquals("held", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
            StorageDriver r = reopen();
            assertTrue(Files.exists(storage.dir("being-made").resolve("partial")), "the live process's create is left alone");
            assertFalse(r.exists("being-made"));
            holder.destroyForcibly().waitFor();
            reopen();
            assertTrue(DirStorage.gone(storage.dir("being-made")), "undone through its mark once its process is gone");
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }

    // ---- helpers

    interface TarBody {
        void write(TestTar t);
    }

    static InputStream tar(TarBody body) {
        return new ByteArrayInputStream(bytes(body));
    }

    static byte[] bytes(TarBody body) {
        TestTar t = new TestTar();
        body.write(t);
        return t.bytes();
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        }
        return out.toByteArray();
    }

    /** Every path under a root with its type, mode, size, mtime and inode. */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                Stat st = PosixFiles.lstat(p);
                m.put(root.relativize(p).toString(), st.mode() + " " + st.size() + " " + st.mtimeNanos() + " " + st.ino());
            }
        }
        return m;
    }

    static List<String> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
