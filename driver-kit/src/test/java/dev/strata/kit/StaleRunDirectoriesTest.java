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
        Path run = RunDirectory.in(base, home.toRealPath(), false);
        new Flock(run.resolve(DriverKit.HOME_LOCK)).locked(() -> { });
        Files.createDirectories(run.resolve(DriverKit.INCOMPLETE));
        Files.writeString(Files.createDirectories(run.resolve("refs")).resolve("l1"), "1");
        Files.writeString(Files.createDirectories(run.resolve("children")).resolve(".built"), "");
        return run;
    }

    /** The run directory of a home that was used, then deleted. */
    private Path orphaned(Path base) throws Exception {
        Path home = tmp.resolve("h");
        Path run = used(base, home);
        Files.delete(home);
        return run;
    }

    /** A base of the test's own, with no background sweep (which would race the sweeps the tests count). */
    private Path base() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("base"));
        StaleRunDirectories.STARTED.add(base);
        return base;
    }

    /** A sweep while something still uses the run directory: nothing swept, its counts whole. */
    private static void assertKept(Path base, Path run, String why) {
        assertEquals(0, StaleRunDirectories.sweep(base), why);
        assertTrue(Files.exists(run.resolve("refs/l1")), "kept " + why);
    }

    /** A sweep once nothing uses it: this one directory swept. */
    private static void assertSwept(Path base, Path run, String why) {
        assertEquals(1, StaleRunDirectories.sweep(base), why);
        assertFalse(Files.exists(run), why);
    }

    /** A process started for a test, with the first line it printed; closing it kills it and its children. */
    private record Child(Process process, String firstLine) implements AutoCloseable {
        static Child start(String... command) throws Exception {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            try {
                return new Child(p, new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine());
            } catch (Exception e) {
                new Child(p, null).close();
                throw e;
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
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
        Path run = orphaned(base);
        try (Child holder = Child.start("flock", run.resolve(DriverKit.HOME_LOCK).toString(), "sh", "-c", "echo held; exec sleep 60")) {
            assertEquals("held", holder.firstLine(), "flock(1) holds the home lock");
            assertKept(base, run, "while another process holds its lock");
        }
        assertSwept(base, run, "once the holder is gone");
    }

    @Test
    void keepsOneWhoseLockAnotherThreadHolds() throws Exception {
        Path base = base();
        Path run = orphaned(base);
        // an operation in progress in this process (the Flock has a descriptor of its own, as another thread's would)
        new Flock(run.resolve(DriverKit.HOME_LOCK)).locked(() -> assertKept(base, run, "while another thread holds its lock"));
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
        try (Child child = Child.start("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs strata-test " + mnt + " && mkdir " + home + " && echo ready && exec sleep 60")) {
            Assumptions.assumeTrue("ready".equals(child.firstLine()), "unshare -m could not make a private mount: " + child.firstLine());
            Files.createDirectories(run);
            Files.writeString(run.resolve(RunDirectory.HOME_NOTE), home + "\n");
            Files.writeString(Files.createDirectories(run.resolve("refs")).resolve("l1"), "1");
            assertFalse(Files.exists(home), "not visible here");
            assertKept(base, run, "while a process can see its home");
        }
        assertSwept(base, run, "the namespace went with its last process, and its mounts with it");
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
                            Path run = RunDirectory.in(base, home.toRealPath(), false);
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
