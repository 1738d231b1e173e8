package dev.strata.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The growth columns pair the two homes run by run, so a slow moment of the machine cancels out. */
class LayerScaleTest {
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
}
