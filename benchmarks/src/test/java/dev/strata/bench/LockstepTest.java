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
 * A B B A, the first side flips with the run and the stage (create-chain's depths; lifecycle's one stage), each side's
 * result line becomes its values; and a side's end of it ({@link Lockstep.Commands}).
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
    void eachStageTimesTheRepsGivenForIt(@TempDir Path work) throws Exception {
        Path log = work.resolve("slices.log");
        PeerSession session = new PeerSession(work.resolve("results.jsonl"), work, "test", false);
        Lockstep pair = new Lockstep(session, "create-chain", "t", new Lockstep.Spec("a", side(log, "a", 100), List.of()),
                new Lockstep.Spec("b", side(log, "b", 50), List.of()), stage -> stage.equals("1") ? 15 : 10, 10, PeerSide::chain);
        pair.sides().getFirst().measure(1);
        // depth 1: 15 reps a side (10 + 5); depth 2: 10
        assertEquals(List.of("a 1 10", "b 1 10", "b 1 5", "a 1 5", "b 2 10", "a 2 10"), Files.readAllLines(log));
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

    /** A lifecycle side: one stage "1", logs "NAME N" per slice, prints its phases' medians when told to go on. */
    private static List<String> lifecycleSide(Path log, String name, int get) {
        String script = """
                echo "ready 1"
                while read -r cmd n; do
                  case $cmd in
                    reps) echo "%1$s $n" >> '%2$s'; echo "done 1" ;;
                    *) echo '{"median_us":400,"phases":{"create":{"median_us":150},"get":{"median_us":%3$d}},"cpu_us":90,"jit_ms_timed":0}'; exit 0 ;;
                  esac
                done
                """.formatted(name, log, get);
        return List.of("sh", "-c", script, name);
    }

    @Test
    void theWarmLifecycleIsOneStageOfAlternatingSlicesWhoseFirstSideFlipsWithTheRun(@TempDir Path work) throws Exception {
        Path log = work.resolve("slices.log");
        PeerSession session = new PeerSession(work.resolve("results.jsonl"), work, "test", false);
        Lockstep pair = new Lockstep(session, "lifecycle", "warm", new Lockstep.Spec("a", lifecycleSide(log, "a", 40), List.of()),
                new Lockstep.Spec("b", lifecycleSide(log, "b", 30), List.of()), 250, 100, PeerSide::lifecycle);
        List<Comparison.Side> sides = pair.sides();

        Map<String, Double> a = sides.get(0).measure(1);
        assertEquals(40.0, a.get("get"));
        assertEquals(150.0, a.get("create"));
        assertEquals(400.0, a.get("round"));
        assertEquals(30.0, sides.get(1).measure(1).get("get"));
        // 250 rounds a side: 100, 100 and the last 50, every slice of one side followed by one of the other.
        assertEquals(List.of("a 100", "b 100", "b 100", "a 100", "a 50", "b 50"), Files.readAllLines(log));

        Files.delete(log);
        assertEquals(30.0, sides.get(1).measure(2).get("get"));
        assertEquals(40.0, sides.get(0).measure(2).get("get"));
        assertEquals(List.of("b 100", "a 100", "a 100", "b 100", "b 50", "a 50"), Files.readAllLines(log));
        // Both sides' lines are recorded, each with the load average before the run.
        assertEquals(4, Files.readAllLines(work.resolve("results.jsonl")).size());
    }

    @Test
    void aSideAnnouncesEachStageAndTimesTheSlicesItIsAskedForUntilAnyOtherLine() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        var in = new java.io.BufferedReader(new java.io.StringReader("reps 100\nreps 50\nnext\n"));
        Lockstep.Commands c = new Lockstep.Commands(in, new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(100, c.ready("1"));
        assertEquals(50, c.done("1"));
        assertEquals(0, c.done("1"));
        assertEquals(0, c.ready("2"), "the end of stdin says go on");
        assertEquals("ready 1\ndone 1\ndone 1\nready 2\n", out.toString(java.nio.charset.StandardCharsets.US_ASCII).replace("\r", ""));
    }
}
