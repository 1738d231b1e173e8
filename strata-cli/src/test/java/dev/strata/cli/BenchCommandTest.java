package dev.strata.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code strata bench}'s refusals: each one clear line, exit 2, and nothing measured (the comparison itself is a benchmark, not a test). */
class BenchCommandTest extends ScratchRootTest {
    private void refused(String expected, String... args) {
        Result r = strata(args);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().strip().startsWith("strata: bench") && r.err().contains(expected), r.err());
        r.assertOneCleanLine();
    }

    @Test
    void fewerThanFiveRunsAnUnknownComparisonAndAMissingPeerAreRefused() {
        refused("--runs must be at least 5", "-s", "overlay", "bench", "--runs", "3");
        refused("--only: unknown comparison startup", "-s", "overlay", "bench", "--only", "depth,startup");
        refused("--peer: /nonexistent/peer is not an executable file", "-s", "overlay", "bench", "--peer", "/nonexistent/peer");
    }
}
