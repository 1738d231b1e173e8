package dev.strata.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** strata conformance's wiring; the suite itself is proven by each driver's own conformance test. */
class ConformanceCommandTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[]{Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void anUnknownDriverIsAUsageErrorListingTheKnownOnes() {
        String[] r = run("conformance", "-s", "vfs,nosuch");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("nosuch") && r[2].contains("vfs"), r[2]);
        assertEquals("", r[1]);
    }

    @Test
    void aMissingKernelForTheLabIsNamed() {
        String[] r = run("conformance", "--kernel", "/nonexistent/vmlinuz-0", "-s", "devmapper");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("/nonexistent/vmlinuz-0 does not exist"), r[2]);
    }

    @Test
    void helpDescribesTheMatrixAndTheOptions() {
        String[] r = run("conformance", "--help");
        assertEquals("0", r[0]);
        assertTrue(r[1].replaceAll("\\s+", " ").contains("tests down, drivers across") && r[1].contains("--report") && r[1].contains("--scratch"), r[1]);
    }
}
