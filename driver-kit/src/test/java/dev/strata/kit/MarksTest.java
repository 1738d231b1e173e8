package dev.strata.kit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MarksTest {
    @TempDir
    Path dir;

    /** Run in a child JVM: marks a layer and waits to be killed. */
    public static void main(String[] args) throws Exception {
        new Marks(Path.of(args[0])).mark(args[1], "create parent-x");
        System.out.println("marked");
        System.out.flush();
        Thread.sleep(60_000);
    }

    @Test
    void aMarkHeldByALiveProcessIsLiveAndAbandonedOnceItDies() throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), MarksTest.class.getName(), dir.toString(), "busy")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            assertEquals("marked", out.readLine());
            Marks marks = new Marks(dir);
            assertTrue(marks.isMarked("busy"));
            assertEquals(Marks.State.LIVE, marks.state("busy"));
            assertEquals(List.of(), marks.abandoned(), "another process is still working on that layer");
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        Marks after = new Marks(dir);
        assertEquals(List.of("busy"), after.abandoned(), "killed: the kernel dropped its lock");
        assertEquals("create parent-x", after.note("busy"), "the note says what to finish");
    }

    @Test
    void markClearAndReleaseInOneProcess() throws Exception {
        Marks marks = new Marks(dir);
        marks.mark("a", "remove");
        assertTrue(marks.isMarked("a"));
        assertEquals(Marks.State.LIVE, marks.state("a"));
        assertEquals(Marks.State.LIVE, new Marks(dir).state("a"), "held by another instance (another thread's operation)");
        assertFalse(new Marks(dir).mark("a", "create x"), "a mark someone holds is not taken over");
        assertEquals("remove", new Marks(dir).note("a"), "reading a mark does not drop its lock (flock, not a POSIX lock)");
        assertEquals(Marks.State.LIVE, new Marks(dir).state("a"));
        assertEquals(List.of(), marks.abandoned(), "our own mark is live");
        marks.clear("a");
        assertFalse(marks.isMarked("a"));
        assertEquals(Marks.State.NONE, marks.state("a"));
        marks.mark("b", "remove");
        marks.release("b");
        assertEquals(List.of("b"), marks.abandoned(), "released: left for the next open to finish");
        Files.createFile(dir.resolve("left-by-a-crash"));
        assertEquals(List.of("b", "left-by-a-crash"), marks.abandoned().stream().sorted().toList());
        assertEquals("", marks.note("left-by-a-crash"), "a mark from before notes");
    }
}
