package dev.strata.bench;

import dev.strata.nativeio.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The growth columns pair the two homes run by run, so a slow moment of the machine cancels out. */
class LayerScaleTest {
    @TempDir
    Path parent;

    @Test
    void ratioAndDifferenceAreTakenPerRunThenSummarised() {
        // run 3 was slow for both homes: its ratio is like the others, only its difference in µs stands out
        double[] smallest = {2_000, 2_000, 10_000, 2_000, 2_000};
        double[] largest = {3_000, 3_100, 15_000, 3_000, 2_800};
        assertEquals(List.of("1.50 (1.40-1.55)", "+1.0 (+0.8..+5.0)"), LayerScale.growth(smallest, largest));
    }

    @Test
    void aFlatOperationReadsOneAndZero() {
        double[] same = {7_500, 7_400, 7_600, 7_500, 7_500};
        assertEquals(List.of("1.00 (1.00-1.00)", "+0.0 (+0.0..+0.0)"), LayerScale.growth(same, same));
    }

    @Test
    void aDriverThatKeepsItsLayersInASubdirectoryIsMeasuredToo() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root: the benchmark mounts a scratch tmpfs");
        // vfs keeps <home>/dir/<id>: the floors must statx there (this run ended on "statx <id>: missing" before)
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        PrintStream out = System.out;
        System.setOut(new PrintStream(table, true, StandardCharsets.UTF_8));
        try {
            LayerScale.run("vfs", new int[]{10, 20}, 5, 2, parent);
        } finally {
            System.setOut(out);
        }
        String printed = table.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("\nstatx <id> ") && printed.contains("\nstatx base ") && printed.contains("\nrefused-remove "), printed);
        assertFalse(printed.contains("statx <id>/diff"), "vfs layers have no diff directory: " + printed);
    }
}
