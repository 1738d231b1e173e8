package dev.strata.api;

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

class IncompleteLayersTest {
    @TempDir
    Path dir;

    /** Run in a child JVM: marks a layer and waits to be killed. */
    public static void main(String[] args) throws Exception {
        new IncompleteLayers(Path.of(args[0])).mark(args[1]);
        System.out.println("marked");
        System.out.flush();
        Thread.sleep(60_000);
    }

    @Test
    void aMarkHeldByALiveProcessIsNotAbandonedAndIsOnceItDies() throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), IncompleteLayersTest.class.getName(), dir.toString(), "busy")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            assertEquals("marked", out.readLine());
            IncompleteLayers marks = new IncompleteLayers(dir);
            assertTrue(marks.isIncomplete("busy"));
            assertEquals(List.of(), marks.abandoned(), "another process is still writing that layer");
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(List.of("busy"), new IncompleteLayers(dir).abandoned(), "killed: the kernel dropped its lock");
    }

    @Test
    void markAndClearInOneProcess() throws Exception {
        IncompleteLayers marks = new IncompleteLayers(dir);
        marks.mark("a");
        assertTrue(marks.isIncomplete("a"));
        assertEquals(List.of(), marks.abandoned(), "our own mark is live");
        assertEquals(List.of("a"), new IncompleteLayers(dir).abandoned(), "a second instance in this JVM is a restart");
        marks.clear("a");
        assertFalse(marks.isIncomplete("a"));
        Files.createFile(dir.resolve("left-by-a-crash"));
        assertEquals(List.of("left-by-a-crash"), marks.abandoned());
    }
}
