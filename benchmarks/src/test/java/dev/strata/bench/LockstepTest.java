package dev.strata.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lockstep protocol against two scripted sides that log every slice they are asked to time: the slices alternate
 * A B B A, the first side flips with the run and the depth, each side's result line becomes its values.
 */
class LockstepTest {
    /** A side: announces depths 1 and 2, logs "NAME DEPTH N" per slice, prints a result line after the last depth. */
    private static List<String> side(Path log, String name, int value) {
        String script = """
                d=1; echo "ready $d"
                while read -r cmd n; do
                  case $cmd in
                    reps) echo "%1$s $d $n" >> '%2$s'; echo "done $d" ;;
                    next) if [ $d = 2 ]; then echo '{"depths":[{"depth":1,"get_put":{"median_us":%3$d}},{"depth":2,"get_put":{"median_us":%3$d}}]}'; exit 0; fi
                          d=2; echo "ready $d" ;;
                  esac
                done
                """.formatted(name, log, value);
        return List.of("sh", "-c", script, name);
    }

    @Test
    void slicesAlternateABBAAndTheFirstSideFlipsWithRunAndDepth(@TempDir Path work) throws Exception {
        Path log = work.resolve("slices.log");
        PeerSession session = new PeerSession(work.resolve("results.jsonl"), work, "test", false);
        Lockstep pair = new Lockstep(session, "create-chain", "t", new Lockstep.Spec("a", side(log, "a", 100), List.of()),
                new Lockstep.Spec("b", side(log, "b", 50), List.of()), 25, 10, PeerSide::chain);
        List<Comparison.Side> sides = pair.sides();

        assertEquals(Map.of("D=1", 100.0, "D=2", 100.0), sides.get(0).measure(1));
        assertEquals(Map.of("D=1", 50.0, "D=2", 50.0), sides.get(1).measure(1));
        // Run 1, a first: depth 1 A B, B A, A B (the last slice 5 reps); depth 2 starts with B.
        assertEquals(List.of("a 1 10", "b 1 10", "b 1 10", "a 1 10", "a 1 5", "b 1 5",
                "b 2 10", "a 2 10", "a 2 10", "b 2 10", "b 2 5", "a 2 5"), Files.readAllLines(log));

        Files.delete(log);
        sides.get(1).measure(2);
        assertEquals(Map.of("D=1", 100.0, "D=2", 100.0), sides.get(0).measure(2));
        assertEquals(List.of("b 1 10", "a 1 10", "a 1 10", "b 1 10", "b 1 5", "a 1 5"), Files.readAllLines(log).subList(0, 6));
    }

    @Test
    void aSideThatDiesInASliceFailsBothSidesOfThatRunWithNoStaleValues(@TempDir Path work) throws Exception {
        Path log = work.resolve("slices.log");
        PeerSession session = new PeerSession(work.resolve("results.jsonl"), work, "test", false);
        List<String> dies = List.of("sh", "-c", "echo 'ready 1'; read -r cmd; exit 3", "dies");
        Lockstep pair = new Lockstep(session, "create-chain", "t", new Lockstep.Spec("a", side(log, "a", 100), List.of()),
                new Lockstep.Spec("b", dies, List.of()), 20, 10, PeerSide::chain);
        List<Comparison.Side> sides = pair.sides();
        IOException first = assertThrows(IOException.class, () -> sides.get(0).measure(1));
        assertTrue(first.getMessage().contains("ended in the middle of a slice"), first.getMessage());
        assertThrows(IOException.class, () -> sides.get(1).measure(1));
    }
}
