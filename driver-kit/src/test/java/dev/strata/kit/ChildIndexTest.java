package dev.strata.kit;

import dev.strata.api.LayerBusyException;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Trees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.strata.kit.KitTest.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The children index holds the live children and what crashes left, not every child ever made, and never outlives
 * its home: real files, in the run directory the kit uses.
 */
class ChildIndexTest {
    @TempDir
    Path tmp;
    Path home;
    StorageDriver d;

    @BeforeEach
    void open() {
        home = tmp.resolve("dirs");
        d = DriverKit.wrap(new DirStorage(home));
    }

    @AfterEach
    void close() {
        d.cleanup();
    }

    private Path index() {
        return RunDirectory.forHome(home).resolve("children");
    }

    @Test
    void aRemovePrunesItsEntryUnderItsParent() throws Exception {
        d.create("base", null, null);
        d.create("keep", "base", null);
        for (int i = 0; i < 50; i++) {
            d.create("c" + i, "base", null);
            assertTrue(list(index().resolve("base")).contains("c" + i));
            d.remove("c" + i);
        }
        assertEquals(List.of("keep"), list(index().resolve("base")), "only the live child is left");
        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> d.remove("base"));
        assertTrue(busy.getMessage().contains("1 child layer(s) (keep)"), busy.getMessage());
        d.remove("keep");
        assertEquals(List.of(), list(index().resolve("base")));
        d.remove("base");
        assertFalse(Files.exists(index().resolve("base")), "a removed parent's directory goes with it");
    }

    /**
     * A kill after the storage removed the child and before its entry was pruned leaves the entry and an abandoned
     * remove mark: the parent does not count the child, and the next check drops the entry. A kill before the storage
     * removed it leaves the child whole but marked: not reported, so not counted either, and finished at the next open.
     */
    @Test
    void aKillBetweenRemoveAndPruneLeavesAnEntryThatCountsForNothing() throws Exception {
        d.create("base", null, null);
        d.create("gone", "base", null);
        d.create("half", "base", null);
        d.create("live", "base", null);
        d.cleanup();
        Path marks = RunDirectory.forHome(home).resolve(DriverKit.INCOMPLETE);
        Files.createDirectories(marks);
        DirStorage s = new DirStorage(home);
        s.remove("gone"); // the storage's part done, then the kill: the mark and the entry stay
        Files.writeString(marks.resolve("gone"), KitRecovery.REMOVE);
        Files.writeString(marks.resolve("half"), KitRecovery.REMOVE); // killed before the storage's part
        assertEquals(List.of("gone", "half", "live"), list(index().resolve("base")));

        d = DriverKit.wrap(new DirStorage(home)); // finishes both removes
        assertFalse(d.exists("gone"));
        assertFalse(d.exists("half"));
        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> d.remove("base"));
        assertTrue(busy.getMessage().contains("1 child layer(s) (live)"), "a live child is never missed: " + busy.getMessage());
        assertEquals(List.of("live"), list(index().resolve("base")), "the stale entries were dropped by that check");
        d.create("gone", "base", null); // the id is free again, and counted again
        d.remove("live");
        busy = assertThrows(LayerBusyException.class, () -> d.remove("base"));
        assertTrue(busy.getMessage().contains("(gone)"), busy.getMessage());
        d.remove("gone");
        d.remove("base");
    }

    /** A layer whose record of its parent cannot be read is still removed; its entry stays, stale, and counts for nothing. */
    @Test
    void aLayerWhoseParentCannotBeReadIsStillRemoved() throws Exception {
        d.create("base", null, null);
        d.create("damaged", "base", null);
        Path record = home.resolve("rec/damaged");
        Files.delete(record);
        Files.createDirectory(record); // exists, but reading its parent fails
        d.remove("damaged");
        assertFalse(d.exists("damaged"));
        d.remove("base");
    }

    /** The same as a live process sees it: a child whose remove was cut short is not counted, before any reopen. */
    @Test
    void anAbandonedRemoveIsNotCountedAndItsEntryGoes() throws Exception {
        d.create("base", null, null);
        d.create("half", "base", null);
        Path marks = Files.createDirectories(RunDirectory.forHome(home).resolve(DriverKit.INCOMPLETE));
        Files.writeString(marks.resolve("half"), KitRecovery.REMOVE);
        d.remove("base");
        assertFalse(Files.exists(index().resolve("base")));
        d.remove("half"); // finishes it
        assertFalse(d.exists("half"));
    }

    /**
     * A home deleted and another put at its path (here a home restored from elsewhere, layers and kit state included)
     * finds the run directory of the first: its index was built and has no entry for the new home's child, so its
     * parent would have been removed under it. The open sees another home and empties the run directory first.
     */
    @Test
    void anIndexLeftByAnEarlierHomeAtTheSamePathIsNotUsed() throws Exception {
        d.create("old", null, null);
        d.create("old-child", "old", null);
        d.cleanup();
        Path run = RunDirectory.forHome(home);
        assertTrue(Files.exists(index().resolve(".built")));
        assertTrue(Files.exists(run.resolve(HomeIdentity.RECORD)));

        Path other = tmp.resolve("other");
        StorageDriver o = DriverKit.wrap(new DirStorage(other));
        o.create("p", null, null);
        o.create("c", "p", null);
        o.cleanup();
        Trees.delete(RunDirectory.forHome(other)); // as a reboot leaves it: this home's own index is gone too
        Trees.delete(home);
        Files.move(other, home);
        String before = Files.readString(run.resolve(HomeIdentity.RECORD));

        d = DriverKit.wrap(new DirStorage(home));
        LayerBusyException busy = assertThrows(LayerBusyException.class, () -> d.remove("p"), "p has a child");
        assertTrue(busy.getMessage().contains("(c)"), busy.getMessage());
        assertTrue(d.exists("c"));
        assertFalse(Files.exists(index().resolve("old")), "the earlier home's entries are gone");
        assertNotEquals(before, Files.readString(run.resolve(HomeIdentity.RECORD)), "the new home is recorded");
        d.remove("c");
        d.remove("p");
    }

    /** The same path, a home made anew (no token): the earlier home's marks are not finished on it either. */
    @Test
    void aHomeMadeAnewAtTheSamePathGetsAnEmptiedRunDirectory() throws Exception {
        d.create("x", null, null);
        d.cleanup();
        Path run = RunDirectory.forHome(home);
        Files.createDirectories(run.resolve(DriverKit.INCOMPLETE));
        Files.writeString(run.resolve(DriverKit.INCOMPLETE).resolve("x"), KitRecovery.REMOVE); // the earlier home's
        Trees.delete(home);
        Files.createDirectories(home);
        DirStorage s = new DirStorage(home);
        s.create(new NewLayer("x", null, false, dev.strata.api.CreateOptions.NONE)); // made by another engine

        d = DriverKit.wrap(new DirStorage(home));
        assertTrue(d.exists("x"), "the earlier home's abandoned remove was not finished on this home's layer");
        assertEquals(List.of(), list(run.resolve(DriverKit.INCOMPLETE)));
        assertEquals(List.of(), list(index()).stream().filter(n -> !n.startsWith(".")).toList());
        assertTrue(Files.exists(run.resolve(DriverKit.HOME_LOCK)), "the home lock stays (a kept one still excludes)");
    }

    /** A run directory from before the record (a Strata that kept none) is adopted as it is: it may count live mounts. */
    @Test
    void aRunDirectoryWithoutARecordIsAdopted() throws Exception {
        d.create("base", null, null);
        d.create("child", "base", null);
        d.cleanup();
        Path run = RunDirectory.forHome(home);
        Files.delete(run.resolve(HomeIdentity.RECORD));
        d = DriverKit.wrap(new DirStorage(home));
        assertEquals(List.of("child"), list(index().resolve("base")));
        assertTrue(Files.exists(run.resolve(HomeIdentity.RECORD)));
        assertThrows(LayerBusyException.class, () -> d.remove("base"));
    }
}
