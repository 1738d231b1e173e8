package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Nothing stored is lost, and nothing is left, when the kit's crash marks are: they live in the run directory, which
 * a reboot or the stale sweep takes, so what a killed operation cut short must be found on disk by the next open.
 */
public interface LostRunDirectoryTests extends DriverUnderTest {
    /**
     * A child of a parent with 2,000 files, its create killed at a random moment (for a driver that copies, most
     * land in the middle of the copy), then the run directory deleted: the child is a whole copy, or absent with no
     * entry anywhere in the home named after it, nor a hidden one naming it; the parent is as it was.
     */
    @Test
    @Order(707)
    @DisplayName("strata: KillDuringCreateOfABigChildThenLostRunDirectory (kill -9 mid-copy, then no run directory)")
    default void killDuringCreateOfABigChildThenLostRunDirectory() throws Exception {
        StorageDriver d = driver();
        d.create(KillTrial.BASE, null, CreateOptions.NONE);
        Layers.apply(d, KillTrial.BASE, root -> {
            byte[] content = new byte[1024];
            for (int i = 0; i < 20; i++) {
                Path dir = Files.createDirectory(root.resolve("d" + i));
                for (int f = 0; f < 100; f++) {
                    content[0] = (byte) f;
                    Files.write(dir.resolve("f" + f), content);
                }
            }
        });
        long seed = Long.getLong("strata.conformance.killSeed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        KillTrial trial = new KillTrial(driverName(), driverOptions(), testRoot(), this::reopen).noEntryNamedAfterIt();
        List<String> states = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try {
                states.add(trial.run(KillTrial.Op.CREATE, false, true, random).state());
            } catch (AssertionError e) {
                fail("trial " + (i + 1) + " after " + states + " (seed " + seed + ", -Dstrata.conformance.killSeed to repeat): " + e.getMessage(), e);
            }
        }
    }
}
