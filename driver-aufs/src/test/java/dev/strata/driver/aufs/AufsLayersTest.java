package dev.strata.driver.aufs;

import dev.strata.api.StorageDriver;
import dev.strata.kit.DriverKit;
import dev.strata.kit.RunDirectory;
import dev.strata.testsupport.Tmpfs;
import dev.strata.api.CreateOptions;
import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Trees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Layers, parents bookkeeping, removal and crash recovery: everything that needs no aufs mount. */
class AufsLayersTest {
    @TempDir
    Path tmp;
    Tmpfs fs;
    Path home;
    StorageDriver d;

    @BeforeEach
    void open() {
        fs = Tmpfs.at(tmp, "512m");
        home = tmp.resolve("aufs");
        d = AufsTests.open(home);
    }

    @AfterEach
    void close() {
        d.cleanup();
        fs.close();
    }

    @Test
    void openMakesDockersDirectories() throws Exception {
        for (String dir : List.of("mnt", "diff", "layers")) {
            assertTrue(Files.isDirectory(home.resolve(dir)), dir);
            assertEquals("rwx--x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve(dir))));
        }
        AufsTests.open(home); // opening an existing home again is fine
        assertEquals("aufs", d.name());
        assertEquals(home, d.home());
    }

    @Test
    void createMakesDiffMntAndAnEmptyLayersFile() throws Exception {
        d.create("1", null, null);
        assertTrue(Files.isDirectory(home.resolve("diff/1")));
        assertTrue(Files.isDirectory(home.resolve("mnt/1")));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("diff/1"))));
        assertEquals("", Files.readString(home.resolve("layers/1")));
        assertTrue(d.exists("1"));
        assertNull(d.parent("1"));
    }

    @Test
    void layersFileListsAncestorsNearestFirst() throws Exception {
        d.create("base", null, null);
        d.create("mid", "base", null);
        d.createReadWrite("top", "mid", CreateOptions.NONE);
        assertEquals("base\n", Files.readString(home.resolve("layers/mid")));
        assertEquals("mid\nbase\n", Files.readString(home.resolve("layers/top")));
        assertEquals("mid", d.parent("top"));
        assertEquals(List.of("mid", "base"), AufsTests.layout(d).parents("top"));
        assertEquals(List.of(home.resolve("diff/mid"), home.resolve("diff/base")),
                AufsTests.layout(d).parentDiffs(AufsTests.layout(d).parents("top")));
        assertEquals(Set.of("base", "mid", "top"), Set.copyOf(d.layers()));
        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> d.remove("base"));
        assertTrue(busy.getMessage().contains("mid"), busy.getMessage());
    }

    @Test
    void aLayersFileWrittenByDockerIsRead() throws Exception {
        // moby writes with Fprintln and skips empty lines when reading.
        Files.createDirectories(home.resolve("diff/d"));
        Files.createDirectories(home.resolve("diff/p"));
        Files.writeString(home.resolve("layers/p"), "");
        Files.writeString(home.resolve("layers/d"), "p\n\n");
        assertEquals("p", d.parent("d"));
        assertTrue(d.exists("d"));
    }

    @Test
    void aCorruptLayersFileIsAClearErrorNotAPathOutside() throws Exception {
        d.create("x", null, null);
        Files.writeString(home.resolve("layers/x"), "../../etc\n");
        StorageException e = assertThrows(StorageException.class, () -> d.get("x", null));
        assertTrue(e.getMessage().contains("line 1 is not a layer id"), e.getMessage());
    }

    @Test
    void badCreatesChangeNothing() throws Exception {
        d.create("base", null, null);
        assertThrows(ParentUnknownException.class, () -> d.create("child", "missing", null));
        assertThrows(LayerExistsException.class, () -> d.create("base", null, null));
        InvalidOptionException opt = assertThrows(InvalidOptionException.class,
                () -> d.create("sized", "base", CreateOptions.of(Map.of("size", "10G"))));
        assertTrue(opt.getMessage().contains("--storage-opt is not supported for aufs"), opt.getMessage());
        assertThrows(InvalidLayerIdException.class, () -> d.create("../evil", null, null));
        assertThrows(InvalidLayerIdException.class, () -> d.create("a/b", null, null));
        assertThrows(InvalidLayerIdException.class, () -> d.create("ok", "../evil", null));
        for (String dir : List.of("diff", "mnt", "layers")) {
            try (var s = Files.list(home.resolve(dir))) {
                assertEquals(List.of("base"), s.map(p -> p.getFileName().toString()).toList(), dir);
            }
        }
    }

    @Test
    void removeTakesEveryTraceAndLeavesNoRemovingDir() throws Exception {
        d.create("1", null, null);
        Files.writeString(home.resolve("diff/1/file"), "x");
        d.remove("1");
        assertFalse(d.exists("1"));
        for (String dir : List.of("diff", "mnt", "layers")) {
            try (var s = Files.list(home.resolve(dir))) {
                assertEquals(List.of(), s.toList(), dir);
            }
        }
        assertThrows(LayerUnknownException.class, () -> d.remove("1"));
        assertThrows(LayerUnknownException.class, () -> d.get("1", null));
    }

    @Test
    void aLayerWithLayersOnItIsNotRemoved() {
        d.create("base", null, null);
        d.create("child", "base", null);
        d.create("grandchild", "child", null);
        LayerBusyException e = assertThrows(LayerBusyException.class, () -> d.remove("base"));
        assertTrue(e.getMessage().contains("(child)"), "the direct children are named: " + e.getMessage());
        assertTrue(d.exists("base"));
        assertEquals("base", d.parent("child"));
        d.remove("grandchild");
        d.remove("child");
        d.remove("base");
        assertEquals(List.of(), d.layers());
    }

    @Test
    void getOfABaseLayerIsItsDiffDirAndIsCounted() {
        d.create("1", null, null);
        assertEquals(home.resolve("diff/1"), d.get("1", null));
        assertEquals(home.resolve("diff/1"), d.get("1", ""));
        assertEquals(2, d.references("1"));
        d.put("1");
        d.put("1");
        assertEquals(0, d.references("1"));
    }

    @Test
    void removeWhileReferencedWins() {
        d.create("1", null, null);
        d.get("1", null);
        d.remove("1");
        assertFalse(d.exists("1"));
        assertEquals(0, d.references("1"));
    }

    /** moby's aufs leaks a count when mount fails; RefCounts keeps it: the mount runs before the count is written. */
    @Test
    void aFailedMountLeaksNoReference() {
        assumeFalse(Kernel.hasFilesystem("aufs"), "this kernel has aufs: the mount would succeed (AufsMountTest covers it)");
        d.create("base", null, null);
        d.create("child", "base", null);
        for (int attempt = 0; attempt < 3; attempt++) {
            SyscallException e = assertThrows(SyscallException.class, () -> d.get("child", null));
            assertEquals(Errno.ENODEV, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("br:" + home.resolve("diff/child") + "=rw:" + home.resolve("diff/base") + "=ro+wh"),
                    e.getMessage());
            assertEquals(0, d.references("child"));
        }
        assertFalse(MountInfo.isMountPoint(home.resolve("mnt/child")));
        assertEquals(0, AufsTests.open(home).references("child"), "nothing persisted either");
        d.remove("child"); // and the layer is not held
    }

    @Test
    void statusHasMobysPairs() {
        d.create("a", null, null);
        d.create("b", "a", null);
        List<StatusEntry> s = d.status();
        assertEquals(List.of("Root Dir", "Backing Filesystem", "Dirs", "Dirperm1 Supported", "Id Maps"), // the last from the kit
                s.stream().map(StatusEntry::key).toList());
        assertEquals(home.toString(), s.get(0).value());
        assertEquals("tmpfs", s.get(1).value());
        assertEquals("2", s.get(2).value());
        if (!Kernel.hasFilesystem("aufs")) assertEquals("false", s.get(3).value());
        assertEquals(Map.of(), d.metadata("a"));
        assertThrows(LayerUnknownException.class, () -> d.metadata("nope"));
    }

    @Test
    void aCreateCutShortIsNeverVisibleAndIsRemovedAtOpen() throws Exception {
        d.create("base", null, null);
        // a create killed before its commit point (layers/half): the kit's mark, the directories, no layers file
        Files.createDirectories(home.resolve("diff/half"));
        Files.writeString(home.resolve("diff/half/partial"), "x");
        Files.createDirectories(home.resolve("mnt/half"));
        Path marks = Files.createDirectories(RunDirectory.forHome(home).resolve(DriverKit.INCOMPLETE));
        Files.writeString(marks.resolve("half"), "create base");
        assertFalse(d.exists("half"));
        assertEquals(List.of("base"), d.layers());
        assertThrows(ParentUnknownException.class, () -> d.create("on-half", "half", null));

        StorageDriver reopened = AufsTests.open(home);
        assertFalse(Files.exists(home.resolve("diff/half")));
        assertFalse(Files.exists(home.resolve("mnt/half")));
        assertFalse(Files.exists(home.resolve("layers/half")));
        assertEquals(List.of("base"), reopened.layers());
        assertTrue(reopened.exists("base"));
        reopened.create("half", "base", null); // the id is free again
    }

    /**
     * A kill and then a lost run directory (a reboot) take an apply's mark: what the apply left in
     * {@code diff/.apply-<id>} is found by the first open on the new run directory and dropped, and a diff dir that a
     * commit without RENAME_EXCHANGE had set aside is put back, so each layer is as it was.
     */
    @Test
    void whatAKilledApplyLeftIsDroppedByTheOpenOnANewRunDirectory() throws Exception {
        for (String id : List.of("staged", "aside")) {
            d.create(id, null, null);
            Files.writeString(home.resolve("diff").resolve(id).resolve("kept"), id);
        }
        Files.createDirectories(home.resolve("diff/.apply-staged/staged/half"));    // killed while the tar went in
        Files.createDirectories(home.resolve("diff/.apply-aside/staged/applied"));  // killed between a commit's renames
        Files.move(home.resolve("diff/aside"), home.resolve("diff/.apply-aside/replaced"));
        Trees.delete(RunDirectory.forHome(home));

        StorageDriver reopened = AufsTests.open(home);
        assertEquals(List.of("aside", "staged"), reopened.layers().stream().sorted().toList());
        for (String id : List.of("staged", "aside")) {
            assertEquals(id, Files.readString(home.resolve("diff").resolve(id).resolve("kept")), id + " as it was");
        }
        try (var names = Files.list(home.resolve("diff"))) {
            assertEquals(List.of("aside", "staged"), names.map(p -> p.getFileName().toString()).sorted().toList(), "nothing staged is left");
        }
    }

    @Test
    void aLayerMarkedByAnOlderDriverIsRemovedAtOpen() throws Exception {
        d.create("half", null, null);
        Files.writeString(home.resolve("diff/half/partial"), "x");
        Files.createDirectories(home.resolve(".incomplete"));
        Files.createFile(home.resolve(".incomplete/half")); // what the driver before the kit left for a crash in an apply
        StorageDriver reopened = AufsTests.open(home);
        assertFalse(reopened.exists("half"));
        assertFalse(Files.exists(home.resolve("diff/half")));
        assertFalse(Files.exists(home.resolve(".incomplete")));
    }

    @Test
    void aRemoveInterruptedAfterTheLayersFileIsFinishedAtOpen() throws Exception {
        d.create("gone", null, null);
        Path marks = Files.createDirectories(RunDirectory.forHome(home).resolve(DriverKit.INCOMPLETE));
        Files.writeString(marks.resolve("gone"), ""); // a remove's mark is empty
        Files.delete(home.resolve("layers/gone"));
        Files.move(home.resolve("diff/gone"), home.resolve("diff/.removing-gone"));
        AufsTests.open(home);
        assertFalse(Files.exists(home.resolve("diff/.removing-gone")));
        assertFalse(Files.exists(home.resolve("mnt/gone")));
    }

    /**
     * A kill and then a lost run directory take the marks, and a quick create never had one: the first open on the
     * new run directory finds by looking what a create killed before its layers file, or a remove after deleting it,
     * left (bare or as {@code diff/.removing-<id>}), and moby's {@code <id>-removing} directories of a Docker home,
     * and drops them; a layer whose id ends in -removing is a layer and stays.
     */
    @Test
    void whatKilledCreatesAndRemovesLeftIsDroppedByTheOpenOnANewRunDirectory() throws Exception {
        d.create("kept-removing", null, null);
        Files.writeString(home.resolve("diff/kept-removing/file"), "kept");
        for (String id : List.of("created", "bare", "retired", "moby")) d.create(id, null, null);
        Files.writeString(home.resolve("diff/created/partial"), "x");
        Files.delete(home.resolve("layers/created"));  // a create killed before its commit point
        Files.delete(home.resolve("layers/bare"));     // a remove killed after deleting the layers file
        Files.delete(home.resolve("layers/retired"));  // ... after renaming the diff away
        Files.move(home.resolve("diff/retired"), home.resolve("diff/.removing-retired"));
        Files.delete(home.resolve("layers/moby"));     // moby's atomicRemove, killed
        Files.move(home.resolve("diff/moby"), home.resolve("diff/moby-removing"));
        Files.move(home.resolve("mnt/moby"), home.resolve("mnt/moby-removing"));
        Trees.delete(RunDirectory.forHome(home));

        StorageDriver reopened = AufsTests.open(home);
        assertEquals(List.of("kept-removing"), reopened.layers());
        assertEquals("kept", Files.readString(home.resolve("diff/kept-removing/file")));
        for (String dir : List.of("diff", "mnt", "layers")) {
            try (var s = Files.list(home.resolve(dir))) {
                assertEquals(List.of("kept-removing"), s.map(p -> p.getFileName().toString()).toList(), dir + " holds only the layer");
            }
        }
        reopened.create("created", null, null); // the ids are free again
    }

    /** moby renamed X's diff to {@code X-removing}, a valid layer id: removing X leaves a layer so named alone. */
    @Test
    void removingXLeavesLayerXRemovingAlone() throws Exception {
        d.create("x", null, null);
        d.create("x-removing", null, null); // its diff dir empty: rename(2) would replace it
        Files.writeString(home.resolve("diff/x/file"), "x");
        d.remove("x");
        assertTrue(d.exists("x-removing"));
        assertTrue(Files.isDirectory(home.resolve("diff/x-removing")), "layer x-removing keeps its diff dir");
        try (var s = Files.list(home.resolve("diff/x-removing"))) {
            assertEquals(List.of(), s.toList(), "and nothing of x's is in it");
        }
        assertEquals("", Files.readString(home.resolve("layers/x-removing")));
    }

    @Test
    void cleanupRestartsCounts() {
        d.create("1", null, null);
        d.get("1", null);
        d.cleanup();
        assertEquals(0, d.references("1"));
        assertTrue(d.exists("1"));
    }

    /** Removing a parent races children being created on it: either the remove is refused or no child exists. */
    @Test
    void removeAndCreateOnTheSameParentDoNotRace() throws Exception {
        for (int round = 0; round < 5; round++) {
            String base = "base" + round;
            d.create(base, null, null);
            List<Future<?>> fs = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
                for (int i = 0; i < 3; i++) {
                    String child = base + "-c" + i;
                    fs.add(pool.submit(() -> {
                        try {
                            d.create(child, base, null);
                        } catch (ParentUnknownException expected) {
                            // the remove came first
                        }
                    }));
                }
                fs.add(pool.submit(() -> {
                    try {
                        d.remove(base);
                    } catch (LayerBusyException expected) {
                        // a child came first
                    }
                }));
                for (Future<?> f : fs) f.get();
            }
            for (String id : d.layers()) {
                String p = d.parent(id);
                if (p != null) assertTrue(d.exists(p), id + " sits on removed " + p);
            }
        }
    }

    @Test
    void aDriverStackDeeperThanMobysLimitIsStillBookkept() throws Exception {
        String parent = null;
        for (int i = 0; i < 130; i++) {
            d.create("l" + i, parent, null);
            parent = "l" + i;
        }
        List<String> lines = Files.readAllLines(home.resolve("layers/l129"), StandardCharsets.UTF_8);
        assertEquals(129, lines.size());
        assertEquals("l128", lines.getFirst());
        assertEquals("l0", lines.getLast());
    }
}
