package dev.strata.kit;

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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Counts shared with a second JVM ({@link RefCountsChild}): racing it, and after it is killed in a mount or unmount. */
class RefCountsProcessTest {
    @TempDir
    Path dir;

    @Test
    void twoProcessesRacingNeverMountTwiceAndLoseNoCount() throws Exception {
        RefCounts refs = RefCountsChild.counts(dir);
        Process child = start("x", "race", "3000");
        List<Throwable> errors = new ArrayList<>();
        Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = Thread.ofPlatform().start(() -> {
                try {
                    RefCountsChild.race(refs, dir, "x", 3000);
                } catch (Throwable e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
        }
        for (Thread t : threads) t.join();
        String out = finish(child);
        assertTrue(errors.isEmpty(), () -> "this process: " + errors);
        assertTrue(out.contains(RefCountsChild.DONE), () -> "the child: " + out);
        // the child left 7 references when it exited, and they are still mounted and counted
        assertEquals(7, refs.count("x"));
        assertTrue(Files.exists(RefCountsChild.marker(dir, "x")));
        for (int i = 0; i < 7; i++) RefCountsChild.put(refs, dir, "x");
        assertEquals(0, refs.count("x"));
        assertFalse(Files.exists(RefCountsChild.marker(dir, "x")), "the last put unmounts");
    }

    @Test
    void aProcessKilledAfterItsMountLeavesAMountThatIsAdoptedNotMadeTwice() throws Exception {
        RefCounts refs = RefCountsChild.counts(dir);
        RefCountsChild.get(refs, dir, "y"); // this process knows y, and trusts its count
        RefCountsChild.put(refs, dir, "y");
        killWhenReady("y", "hang-mount"); // mounted, not counted, BUSY left in the word
        assertNull(refs.tryAcquire("y"), "a word a killed process left busy sends every caller to the lock");
        RefCountsChild.get(refs, dir, "y"); // would throw "mounted twice" if it mounted
        assertEquals(1, refs.count("y"));
        assertNotNull(refs.tryAcquire("y"), "reconciled: trusted again");
        RefCountsChild.put(refs, dir, "y");
        RefCountsChild.put(refs, dir, "y");
        assertFalse(Files.exists(RefCountsChild.marker(dir, "y")));
    }

    @Test
    void aProcessKilledAfterItsUnmountLeavesACountThatStartsAgain() throws Exception {
        RefCounts refs = RefCountsChild.counts(dir);
        RefCountsChild.get(refs, dir, "z");
        RefCountsChild.put(refs, dir, "z");
        killWhenReady("z", "hang-unmount"); // unmounted, the count still says 1, BUSY left
        assertFalse(Files.exists(RefCountsChild.marker(dir, "z")));
        RefCountsChild.get(refs, dir, "z"); // the stale count starts at 0: mounts again
        assertTrue(Files.exists(RefCountsChild.marker(dir, "z")));
        assertEquals(1, refs.count("z"));
        RefCountsChild.put(refs, dir, "z");
        assertFalse(Files.exists(RefCountsChild.marker(dir, "z")));
    }

    private Process start(String id, String... rest) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), RefCountsChild.class.getName(),
                dir.toString(), id));
        command.addAll(List.of(rest));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static String finish(Process child) throws Exception {
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the child did not finish");
        assertEquals(0, child.exitValue(), () -> "the child failed: " + out);
        return out;
    }

    /** Runs the child until it prints READY (inside the mount or unmount, the word BUSY), then kills it with SIGKILL. */
    private void killWhenReady(String id, String mode) throws Exception {
        Process child = start(id, mode);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder seen = new StringBuilder();
            for (String l; (l = r.readLine()) != null && !l.equals(RefCountsChild.READY); ) seen.append(l).append('\n');
            assertTrue(child.isAlive(), () -> "the child ended before it was ready: " + seen);
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, child.exitValue(), "killed with SIGKILL");
        }
    }
}
