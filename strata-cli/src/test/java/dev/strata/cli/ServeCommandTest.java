package dev.strata.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@code strata ... serve} command does with bad input: refuse it before it binds anything. A subclass
 * names the command line and the help it expects; serving itself is tested where each server lives.
 */
abstract class ServeCommandTest {
    @TempDir
    Path tmp;

    /** The command line serving {@code driver} on {@code socket}, with {@code more} at its end. */
    abstract List<String> serve(Path socket, String driver, String... more);

    /** The command's words, e.g. {@code plugin serve}. */
    abstract List<String> command();

    /** What its help must mention (white space taken out): the socket default first. */
    abstract List<String> helpMentions();

    private String[] run(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[]{Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void anUnknownDriverIsRefusedWithTheKnownOnesAndNoSocketIsMade() {
        Path socket = tmp.resolve("s.sock");
        String[] r = run(serve(socket, "nosuch"));
        assertEquals("2", r[0], "a config error");
        assertTrue(r[2].startsWith("strata: ") && r[2].contains("unknown storage driver \"nosuch\"") && r[2].contains("vfs"), r[2]);
        assertFalse(Files.exists(socket));
    }

    @Test
    void anUnknownOptionIsRefusedNamingTheValidKeys() {
        Path socket = tmp.resolve("s.sock");
        String[] r = run(serve(socket, "vfs", "-o", "vfs.colour=blue"));
        assertEquals("2", r[0], "a config error");
        assertTrue(r[2].contains("unknown option vfs.colour"), r[2]);
        assertFalse(Files.exists(socket));
        assertFalse(Files.exists(tmp.resolve("snapshots")), "nothing made");
    }

    @Test
    void helpNamesTheSocketDefault() {
        List<String> args = new ArrayList<>(command());
        args.add("--help");
        String[] r = run(args);
        assertEquals("0", r[0]);
        String flat = r[1].replaceAll("\\s+", "");
        for (String m : helpMentions()) assertTrue(flat.contains(m), m + " in\n" + r[1]);
    }
}
