package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.StorageDriver;
import dev.strata.kit.DriverKit;
import dev.strata.kit.RunDirectory;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Trees;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a crash leaves behind, exactly as the overlay storage and the kit lay it out, is never reported as a layer,
 * and the next open finishes or undoes it: a create cut short is removed, a remove is finished, an apply's copy is
 * dropped with the layer as it was.
 */
class CrashRecoveryTest extends OnScratchFs {
    /** The driver on the scratch home, with a layer "base". */
    StorageDriver d;

    @BeforeEach
    void openWithABase() {
        d = open();
        d.create("base", null, CreateOptions.NONE);
    }

    @Test
    void leftoversOfACrashAreHiddenAndFinishedAtTheNextOpen() throws Exception {
        d.create("applied", "base", CreateOptions.NONE);
        Files.writeString(home.resolve("applied/diff/kept"), "before the apply");
        d.create("old", "base", CreateOptions.NONE);
        d.create("legacy", "base", CreateOptions.NONE);
        d.createReadWrite("mounted", "base", CreateOptions.NONE);
        d.get("mounted", "");
        Path run = RunDirectory.forHome(home);
        Path marks = Files.createDirectories(run.resolve(DriverKit.INCOMPLETE)), applying = run.resolve(DriverKit.APPLYING);

        // Two creates killed before their rename (one by an older Strata), each with a mark naming the parent.
        leaveCutShortCreates(home);
        Files.writeString(marks.resolve("ghost"), "create base");
        Files.writeString(marks.resolve("shade"), "create base");
        // A remove killed after its rename: the mark, the grave.
        Files.writeString(marks.resolve("old"), ""); // a remove's mark is empty
        String oldLink = Files.readString(home.resolve("old/link"));
        Files.createDirectories(home.resolve(".staging/removing"));
        Files.move(home.resolve("old"), home.resolve(".staging/removing/old"));
        // An apply killed half way: the mark, a copy with new files; the layer itself untouched.
        Files.createDirectories(applying);
        Files.writeString(applying.resolve("applied"), "apply");
        Files.createDirectories(home.resolve(".apply-applied/staged/new-dir"));
        // A layer marked by a driver from before the kit (an apply or create it never finished).
        Files.createDirectories(home.resolve(".incomplete"));
        Files.createFile(home.resolve(".incomplete/legacy"));
        // A crash inside the probe.
        Path probe = Files.createDirectories(home.resolve(OverlayProbe.PROBE_PREFIX + "X/merged"));

        assertFalse(d.exists("ghost"), "a create cut short is not reported");
        assertFalse(d.exists("shade"), "a create cut short is not reported");
        assertFalse(d.exists("old"), "a remove cut short is not reported");
        assertTrue(d.exists("applied"), "an apply cut short leaves the layer as it was");
        assertThrows(LayerUnknownException.class, () -> d.metadata("old"));
        assertThrows(LayerUnknownException.class, () -> d.parent("ghost"));

        StorageDriver reopened = open();
        assertNoCutShortCreates(home);
        assertFalse(Files.exists(home.resolve(".staging/removing/old")), "the grave of the killed remove");
        assertFalse(Files.exists(home.resolve("l/" + oldLink), LinkOption.NOFOLLOW_LINKS), "the killed remove's short link");
        assertFalse(Files.exists(home.resolve(".apply-applied")), "the killed apply's copy");
        assertEquals("before the apply", Files.readString(home.resolve("applied/diff/kept")));
        assertFalse(Files.exists(home.resolve("legacy")), "a layer an older driver marked is removed, as that driver did");
        assertFalse(Files.exists(probe.getParent()));
        assertEquals(List.of("applied", "base", "mounted"), reopened.layers().stream().sorted().toList());
        assertEquals(List.of(), listOrEmpty(marks));
        assertEquals(List.of(), listOrEmpty(applying));
        assertEquals(1, reopened.references("mounted"), "a layer mounted before the 'crash' keeps its count");
        try (var links = Files.list(home.resolve("l"))) {
            assertEquals(2, links.count(), "the short links of base and applied remain (mounted, read-write, has none)");
        }
        reopened.create("ghost", "base", CreateOptions.NONE);
        reopened.create("old", "base", CreateOptions.NONE);
        reopened.remove("ghost");
        cleanupNow(reopened);
        assertTrue(MountInfo.under(home).isEmpty());
    }

    /**
     * After a reboot, or once the run directory was swept as stale, no mark names what a kill cut short (and a quick
     * create never had one): the first open on the new run directory finds the staging dirs by looking and sweeps
     * them, with their short links, and leaves every layer as it was.
     */
    @Test
    void aLostRunDirectoryLeavesNoHalfMadeLayer() throws Exception {
        Files.writeString(home.resolve("base/diff/from-base"), "base");
        d.create("child", "base", CreateOptions.NONE);
        Files.writeString(home.resolve("child/diff/from-child"), "child");
        d.createReadWrite("container", "child", CreateOptions.NONE);
        leaveHalfMadeLayers(home);
        cleanupNow(d); // as after a reboot: no process of before keeps the old run directory's lock open
        dropRunDirectory(home);
        StorageDriver r = open();
        assertNoHalfMadeLayers(home);
        assertEquals(List.of("base", "child", "container"), r.layers().stream().sorted().toList());
        assertEquals("child", r.parent("container"));
        Path root = r.get("container", "");
        try {
            assertEquals("base", Files.readString(root.resolve("from-base")));
            assertEquals("child", Files.readString(root.resolve("from-child")));
        } finally {
            r.put("container");
        }
        // Once per run directory: a leftover made now is the next create or remove of its id's to sweep.
        Files.createDirectories(home.resolve(".new-later/diff"));
        open();
        assertTrue(Files.exists(home.resolve(".new-later")), "swept again on a run directory swept already");
        r.create("later", null, CreateOptions.NONE);
        assertFalse(Files.exists(home.resolve(".new-later")));
        cleanupNow(r);
        assertTrue(MountInfo.under(home).isEmpty());
    }

    /**
     * A process that holds the home lock may be making a layer in {@code .new-<id>} right now: an open on a new run
     * directory waits for the lock before it sweeps, and sweeps only once the holder (here flock(1), as a quick
     * create holds it) lets go; so does one in a JVM that kept the deleted run directory's lock open.
     */
    @Test
    void nothingIsSweptWhileAnotherProcessHoldsTheHomeLock() throws Exception {
        leaveHalfMadeLayers(home);
        // d keeps the old run directory's home lock open, as a process that had the home open when the stale
        // sweep deleted its run directory: the instances opened after must still exclude the others.
        dropRunDirectory(home);
        Path lock = RunDirectory.forHome(home).resolve(DriverKit.HOME_LOCK);
        // One process (the shell execs sleep), so killing it lets go of the lock and leaves nothing running.
        Process holder = new ProcessBuilder("sh", "-c", "exec 9>>\"$0\" && flock -x 9 && echo held && exec sleep 120", lock.toString())
                .redirectErrorStream(true).start();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            String first = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine();
            assertEquals("held", first, "flock(1) took the home lock");
            Future<StorageDriver> opening = pool.submit(() -> ScratchFs.open(home));
            Thread.sleep(1500);
            assertFalse(opening.isDone(), "the open waits for the home lock");
            assertTrue(Files.exists(home.resolve(".new-ghost/diff/half")), "nothing is swept while another process holds the home lock");
            holder.destroyForcibly().waitFor();
            StorageDriver r = opening.get(60, TimeUnit.SECONDS);
            assertNoHalfMadeLayers(home);
            assertEquals(List.of("base"), r.layers());
        } finally {
            holder.destroyForcibly().waitFor();
            pool.shutdownNow();
        }
    }

    /**
     * Two creates killed before their rename, not marked: "ghost" staged in {@code .new-ghost}, "shade" by a Strata
     * that staged creates under {@code .staging/new}; each with content, its LID and its short link.
     */
    private static void leaveCutShortCreates(Path home) throws Exception {
        Path staging = Files.createDirectories(home.resolve(".new-ghost/diff"));
        Files.writeString(staging.resolve("half"), "half a layer");
        Files.writeString(staging.resolveSibling("link"), "GHOSTGHOSTGHOSTGHOSTGHOSTG");
        Files.writeString(staging.resolveSibling("lower"), "l/NOSUCHLOWERNOSUCHLOWER22");
        Files.createSymbolicLink(home.resolve("l/GHOSTGHOSTGHOSTGHOSTGHOSTG"), Path.of("../ghost/diff"));
        Path oldStaging = Files.createDirectories(home.resolve(".staging/new/shade/diff"));
        Files.writeString(oldStaging.resolve("half"), "half");
        Files.writeString(oldStaging.resolveSibling("link"), "SHADESHADESHADESHADESHADE2");
        Files.createSymbolicLink(home.resolve("l/SHADESHADESHADESHADESHADE2"), Path.of("../shade/diff"));
    }

    private static void assertNoCutShortCreates(Path home) {
        assertFalse(Files.exists(home.resolve(".new-ghost"), LinkOption.NOFOLLOW_LINKS), "the staging dir of a killed create");
        assertFalse(Files.exists(home.resolve("l/GHOSTGHOSTGHOSTGHOSTGHOSTG"), LinkOption.NOFOLLOW_LINKS), "its short link");
        assertFalse(Files.exists(home.resolve(".staging/new/shade")), "an older Strata's staging dir of a killed create");
        assertFalse(Files.exists(home.resolve("l/SHADESHADESHADESHADESHADE2"), LinkOption.NOFOLLOW_LINKS), "its short link");
    }

    /** {@link #leaveCutShortCreates}, and a remove killed after its rename, none marked. */
    private static void leaveHalfMadeLayers(Path home) throws Exception {
        leaveCutShortCreates(home);
        Files.writeString(Files.createDirectories(home.resolve(".staging/removing/gone/diff")).resolve("half"), "half");
    }

    private static void assertNoHalfMadeLayers(Path home) {
        assertNoCutShortCreates(home);
        assertFalse(Files.exists(home.resolve(".staging/removing/gone")), "the grave of a killed remove");
    }

    /** As a reboot or the stale sweep leaves it: no run directory, so no mark, count or lock of before. */
    private static void dropRunDirectory(Path home) {
        Trees.delete(RunDirectory.forHome(home));
    }

    private static List<String> listOrEmpty(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) return List.of();
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
