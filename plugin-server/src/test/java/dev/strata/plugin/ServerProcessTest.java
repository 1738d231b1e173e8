package dev.strata.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server as a real process: SIGTERM stops it gracefully, through the driver's cleanup. */
@Timeout(60)
class ServerProcessTest {
    @TempDir
    Path tmp;

    @Test
    void sigtermRunsCleanupRemovesTheSocketAndExits() throws Exception {
        Path socket = tmp.resolve("plugins/strata-proc.sock");
        Path home = tmp.resolve("data-root/strata-proc");
        Path log = tmp.resolve("server.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(List.of(java, "-cp", classPath, ServeMain.class.getName(), socket.toString(), "memory.flag=true"))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(Files.exists(socket), () -> "no socket; log:\n" + read(log));
            try (RawHttp c = new RawHttp(socket)) {
                assertEquals(200, c.call("Plugin.Activate", null).status());
                assertEquals(200, c.call("GraphDriver.Init", "{\"Home\":\"" + home + "\"}").status());
                assertEquals(200, c.call("GraphDriver.Create", "{\"ID\":\"l1\"}").status());
                assertEquals(200, c.call("GraphDriver.Get", "{\"ID\":\"l1\"}").status());
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), () -> "still running after SIGTERM; log:\n" + read(log));
            assertEquals(143, p.exitValue(), () -> read(log));
            assertEquals("1", Files.readString(home.resolve("memory/cleanups")), "cleanup ran once");
            assertFalse(Files.exists(socket), "socket removed");
            assertTrue(read(log).contains("strata plugin: stopped serving on " + socket + " after the driver's cleanup"), read(log));
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void sigtermTheMomentTheSocketAppearsStillRemovesIt() throws Exception {
        Path socket = tmp.resolve("plugins/strata-early.sock");
        Path log = tmp.resolve("early.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(List.of(java, "-cp", classPath, ServeMain.class.getName(), socket.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket) && p.isAlive() && System.nanoTime() < deadline) Thread.onSpinWait();
            assertTrue(Files.exists(socket), () -> "no socket; log:\n" + read(log));
            p.destroy(); // SIGTERM while the server may still be finishing its start
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), () -> read(log));
            assertEquals(143, p.exitValue(), () -> read(log));
            assertFalse(Files.exists(socket), () -> "socket left behind; log:\n" + read(log));
        } finally {
            p.destroyForcibly();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
