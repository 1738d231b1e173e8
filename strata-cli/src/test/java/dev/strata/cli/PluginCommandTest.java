package dev.strata.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code strata plugin serve} refuses bad input before it binds anything. Serving itself is tested in e2e-docker. */
class PluginCommandTest {
    @TempDir
    Path tmp;

    private String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[]{Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void anUnknownDriverIsRefusedWithTheKnownOnesAndNoSocketIsMade() {
        Path socket = tmp.resolve("s.sock");
        String[] r = run("plugin", "serve", "--socket", socket.toString(), "-s", "nosuch");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("unknown storage driver \"nosuch\"") && r[2].contains("vfs"), r[2]);
        assertFalse(Files.exists(socket));
    }

    @Test
    void anUnknownOptionIsRefusedNamingTheValidKeys() {
        Path socket = tmp.resolve("s.sock");
        String[] r = run("plugin", "serve", "--socket", socket.toString(), "-s", "vfs", "-o", "vfs.colour=blue");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("unknown option vfs.colour"), r[2]);
        assertFalse(Files.exists(socket));
    }

    @Test
    void helpNamesTheSocketDefault() {
        String[] r = run("plugin", "serve", "--help");
        assertEquals("0", r[0]);
        assertTrue(r[1].contains("/run/docker/plugins/strata.sock"), r[1]);
    }
}
