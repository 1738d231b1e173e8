package dev.strata.kit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sweep of run directories whose homes are gone: what it removes, and everything it must keep. */
class StaleRunDirectoriesTest {
    @TempDir
    Path tmp;

    /** A run directory as a driver leaves it: the note, the home lock, a mark, counts and the index cache. */
    private Path used(Path base, Path home) throws Exception {
        Files.createDirectories(home);
        Path run = RunDirectory.in(base, home.toRealPath());
        new Flock(run.resolve(DriverKit.HOME_LOCK)).locked(() -> { });
        Files.createDirectories(run.resolve(DriverKit.INCOMPLETE));
        Files.writeString(Files.createDirectories(run.resolve("refs")).resolve("l1"), "1");
        Files.writeString(Files.createDirectories(run.resolve("children")).resolve(".built"), "");
        return run;
    }

    /** A base of the test's own, with no background sweep (which would race the sweeps the tests count). */
    private Path base() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("base"));
        StaleRunDirectories.STARTED.add(base);
        return base;
    }

    private static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void removesTheRunDirectoryOfADeletedHomeAndKeepsOneWhoseHomeExists() throws Exception {
        Path base = base();
        Path dead = used(base, tmp.resolve("dead"));
        Path live = used(base, tmp.resolve("live"));
        Files.delete(tmp.resolve("dead"));
        assertEquals(1, StaleRunDirectories.sweep(base));
        assertFalse(Files.exists(dead), "the deleted home's run directory is gone");
        assertTrue(Files.exists(live.resolve("refs/l1")), "the existing home's is whole");
        assertTrue(Files.exists(live.resolve(RunDirectory.HOME_NOTE)));
    }

    @Test
    void keepsOneWhoseLockAnotherProcessHolds() throws Exception {
        Path base = base();
        Path run = used(base, tmp.resolve("h"));
        Files.delete(tmp.resolve("h"));
        Path lock = run.resolve(DriverKit.HOME_LOCK);
        Process holder = new ProcessBuilder("flock", lock.toString(), "sh", "-c", "echo held; exec sleep 60").redirectErrorStream(true).start();
        try {
            String line = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertEquals("held", line, "flock(1) holds the home lock");
            assertEquals(0, StaleRunDirectories.sweep(base));
            assertTrue(Files.exists(run.resolve("refs/l1")), "kept while its lock is held");
        } finally {
            kill(holder);
        }
        assertEquals(1, StaleRunDirectories.sweep(base), "swept once the holder is gone");
        assertFalse(Files.exists(run));
    }

    @Test
    void keepsOneWhoseLockAnotherThreadHolds() throws Exception {
        Path base = base();
        Path run = used(base, tmp.resolve("h"));
        Files.delete(tmp.resolve("h"));
        // an operation in progress in this process (the Flock has a descriptor of its own, as another thread's would)
        int swept = new Flock(run.resolve(DriverKit.HOME_LOCK)).locked(() -> StaleRunDirectories.sweep(base));
        assertEquals(0, swept);
        assertTrue(Files.exists(run.resolve("refs/l1")));
    }

    @Test
    void keepsOneWithoutANoteOrWhoseNoteIsNotItsOwn() throws Exception {
        Path base = base();
        Path noNote = Files.createDirectories(base.resolve("0123456789abcdef"));
        Path wrong = Files.createDirectories(base.resolve("fedcba9876543210"));
        Files.writeString(wrong.resolve(RunDirectory.HOME_NOTE), tmp.resolve("gone") + "\n"); // hashes to another name
        Path foreign = Files.createDirectories(base.resolve("not-a-run-dir"));
        assertEquals(0, StaleRunDirectories.sweep(base));
        assertTrue(Files.exists(noNote) && Files.exists(wrong) && Files.exists(foreign));
    }

    @Test
    void keepsOneWhoseHomeIsMountedOnlyInAnotherMountNamespace() throws Exception {
        Assumptions.assumeTrue("0".equals(RunDirectory.uid()), "mounting a tmpfs in a new mount namespace needs root");
        Path base = base();
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        Path home = mnt.resolve("home");
        Path run = base.resolve(RunDirectory.hash(home.toString()));
        // the home exists only in the child's private namespace; this process sees an empty mnt
        Process child = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs strata-test " + mnt + " && mkdir " + home + " && echo ready && exec sleep 60").redirectErrorStream(true).start();
        try {
            String line = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
            Assumptions.assumeTrue("ready".equals(line), "unshare -m could not make a private mount: " + line);
            Files.createDirectories(run);
            Files.writeString(run.resolve(RunDirectory.HOME_NOTE), home + "\n");
            Files.writeString(run.resolve("refs-of-a-mounted-layer"), "1");
            assertFalse(Files.exists(home), "not visible here");
            assertEquals(0, StaleRunDirectories.sweep(base));
            assertTrue(Files.exists(run.resolve("refs-of-a-mounted-layer")), "kept while a process can see its home");
        } finally {
            kill(child);
        }
        assertEquals(1, StaleRunDirectories.sweep(base), "the namespace went with its last process, and its mounts with it");
        assertFalse(Files.exists(run));
    }

    @Test
    void concurrentMakingAndSweepingNeverTakesADirectoryAwayFromAnExistingHome() throws Exception {
        Path base = base();
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger swept = new AtomicInteger();
        List<Throwable> errors = new ArrayList<>();
        Thread sweeper = Thread.ofPlatform().start(() -> {
            while (!done.get()) swept.addAndGet(StaleRunDirectories.sweep(base));
        });
        Thread[] makers = new Thread[3];
        for (int t = 0; t < makers.length; t++) {
            int n = t;
            makers[t] = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 50; i++) {
                        // one home deleted and made again at the same path, the other always new
                        for (Path home : List.of(tmp.resolve("again-" + n), tmp.resolve("new-" + n + "-" + i))) {
                            Files.createDirectories(home);
                            Path run = RunDirectory.in(base, home.toRealPath());
                            Files.writeString(Files.createDirectories(run.resolve("refs")).resolve("x"), "1");
                            assertTrue(Files.exists(run.resolve(RunDirectory.HOME_NOTE)), "handed out with its note");
                            assertTrue(Files.exists(run.resolve("refs/x")), "not swept while its home exists");
                            Files.delete(home);
                        }
                    }
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
        }
        for (Thread t : makers) t.join();
        done.set(true);
        sweeper.join();
        assertTrue(errors.isEmpty(), () -> errors.toString());
        StaleRunDirectories.sweep(base);
        try (var left = Files.list(base)) {
            assertEquals(List.of(".lock"), left.map(p -> p.getFileName().toString()).toList(), "every dead home's run directory swept");
        }
        assertTrue(swept.get() > 0, "the sweeper ran concurrently with the makers");
    }
}
