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

/** {@code strata snapshotter serve} refuses bad input before it binds anything; serving is tested in snapshotter-server. */
class SnapshotterCommandTest {
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
        String[] r = run("--root", tmp.toString(), "-s", "nosuch", "snapshotter", "serve", "--socket", socket.toString());
        assertEquals("2", r[0], "a config error");
        assertTrue(r[2].startsWith("strata: ") && r[2].contains("unknown storage driver \"nosuch\"") && r[2].contains("vfs"), r[2]);
        assertFalse(Files.exists(socket));
    }

    @Test
    void anUnknownOptionIsRefusedNamingTheValidKeys() {
        Path socket = tmp.resolve("s.sock");
        String[] r = run("--root", tmp.toString(), "-s", "vfs", "snapshotter", "serve", "--socket", socket.toString(), "-o", "vfs.colour=blue");
        assertEquals("2", r[0], "a config error");
        assertTrue(r[2].contains("unknown option vfs.colour"), r[2]);
        assertFalse(Files.exists(socket));
        assertFalse(Files.exists(tmp.resolve("snapshots")), "nothing made");
    }

    @Test
    void helpNamesTheSocketDefaultAndTheProxyStanza() {
        String[] r = run("snapshotter", "serve", "--help");
        assertEquals("0", r[0]);
        String flat = r[1].replaceAll("\\s+", "");
        assertTrue(flat.contains("/run/strata/snapshotter.sock") && flat.contains("[proxy_plugins.strata]"), r[1]);
    }
}
