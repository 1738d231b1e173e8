package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.kit.RunDirectory;
import dev.strata.nativeio.Trees;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
        killThreeTimesThenLoseTheRunDirectory(KillTrial.Op.CREATE, false);
    }

    /**
     * A layer with content of its own, an apply to it killed mid-stream (a tar that never ends: the kill lands while
     * it writes), then the run directory deleted: the next open drops what the apply staged and puts back whatever it
     * had set aside, so the layer is exactly as before and the home holds exactly the entries naming it that it held
     * before. Applied against its own parent, then against its grandparent (a driver that applies through a mount of
     * its staged copy, as overlay then does, has it still mounted after the kill). The first layer is {@code lost-twin.old}
     * (a valid id), and while it is applied an apply to {@code lost-twin} fails here: dropping what that one staged
     * must leave the running apply alone ({@code .apply-X.old} was once also where X's content was set aside).
     */
    @Test
    @Order(708)
    @DisplayName("strata: KillDuringApplyThenLostRunDirectory (kill -9 mid-stream, then no run directory)")
    default void killDuringApplyThenLostRunDirectory() throws Exception {
        StorageDriver d = driver();
        Path home = d.home();
        d.create("lost-base", null, CreateOptions.NONE);
        Layers.apply(d, "lost-base", Applier.all(Applier.createFile("/base-file", "base", 0644), Applier.createFile("/gone", "gone", 0644)));
        d.create("lost-mid", "lost-base", CreateOptions.NONE);
        Layers.apply(d, "lost-mid", Applier.createFile("/mid-file", "mid", 0644));
        String twin = "lost-twin";
        d.create(twin, "lost-mid", CreateOptions.NONE);
        Map<String, String> twinBefore = Layers.describe(d, twin, true);
        for (String against : List.of("lost-mid", "lost-base")) {
            String victim = against.equals("lost-mid") ? twin + ".old" : "lost-applied-against-" + against;
            d.create(victim, "lost-mid", CreateOptions.NONE);
            // applied once whole first: what a driver keeps of a layer from its first apply on (btrfs's parent record) is there before
            d.applyDiff(victim, "lost-mid", new ByteArrayInputStream(KillTrial.baseTar()));
            Layers.apply(d, victim, Applier.all(Applier.createDir("/own", 0750), Applier.createFile("/own/file", "mine", 0600),
                    Applier.removeAll("/gone")));
            Map<String, String> before = Layers.describe(d, victim, true);
            List<String> layers = d.layers().stream().sorted().toList();
            TreeSet<String> named = entriesNaming(home, victim);

            StorageDriver here = d;
            // killDuringApply checks that the child still applies after this ran
            ChildJvm.killDuringApply(driverName(), driverOptions(), testRoot(), victim, against, () -> {
                if (!against.equals("lost-mid")) return;
                StorageException e = assertThrows(StorageException.class, () -> here.applyDiff(twin, "lost-mid",
                        new ByteArrayInputStream("garbage\n".getBytes(StandardCharsets.UTF_8))), "garbage applied to " + twin);
                assertTrue(e.getMessage().contains("layer " + twin + " unchanged"), e.getMessage());
            });
            Trees.delete(RunDirectory.forHome(home));

            d = reopen();
            String when = "after an apply against " + against + " was killed and the run directory lost";
            assertTrue(d.exists(victim), when + ", the layer is gone");
            Layers.assertSameTree(before, Layers.describe(d, victim, true), when + ", the layer is not as it was");
            assertEquals(layers, d.layers().stream().sorted().toList(), when + ": layers()");
            Layers.assertSameTree(twinBefore, Layers.describe(d, twin, true), when + ", " + twin + " is not as it was");
            TreeSet<String> now = entriesNaming(home, victim), left = new TreeSet<>(now), gone = new TreeSet<>(named);
            left.removeAll(named);
            gone.removeAll(now);
            assertTrue(left.isEmpty() && gone.isEmpty(), when + ", entries of the home naming the layer are not as before: left "
                    + left.stream().limit(8).toList() + ", gone " + gone.stream().limit(8).toList());
        }
    }

    /**
     * A layer with content of its own, its remove killed at a random moment, then the run directory deleted (the
     * remove's mark with it): the layer is as it was, or absent with no entry anywhere in the home named after it,
     * nor a hidden one naming it (a diff dir whose record went first, a device whose discard began, are leftovers).
     */
    @Test
    @Order(709)
    @DisplayName("strata: KillDuringRemoveThenLostRunDirectory (kill -9 mid-remove, then no run directory)")
    default void killDuringRemoveThenLostRunDirectory() throws Exception {
        killThreeTimesThenLoseTheRunDirectory(KillTrial.Op.REMOVE, true);
    }

    /**
     * Three trials of {@code op} killed at random moments, each followed by a lost run directory, on one seed; a
     * failure names the trial, the states the earlier ones ended in and the seed to repeat them.
     */
    private void killThreeTimesThenLoseTheRunDirectory(KillTrial.Op op, boolean onContent) throws Exception {
        long seed = Long.getLong("strata.conformance.killSeed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        KillTrial trial = new KillTrial(driverName(), driverOptions(), testRoot(), this::reopen).noEntryNamedAfterIt();
        List<String> states = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try {
                states.add(trial.run(op, onContent, true, random).state());
            } catch (AssertionError e) {
                fail("trial " + (i + 1) + " after " + states + " (seed " + seed + ", -Dstrata.conformance.killSeed to repeat): " + e.getMessage(), e);
            }
        }
    }

    /** Every path under {@code home}, relative to it, that holds {@code id}, but in a run directory kept there. */
    private static TreeSet<String> entriesNaming(Path home, String id) throws IOException {
        Path run = RunDirectory.forHome(home);
        try (Stream<Path> all = Files.walk(home)) {
            TreeSet<String> out = new TreeSet<>();
            all.filter(p -> !p.startsWith(run) && home.relativize(p).toString().contains(id)).forEach(p -> out.add(home.relativize(p).toString()));
            return out;
        }
    }
}
