package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Two processes of one op (Strata's {@link PeerBench} and a Go peer, each with {@code -lockstep}) timed in one run
 * by alternating slices, so that both sides meet the same moments of a shared machine: a journal commit, a
 * neighbour's build or a burst of writeback lands on both sides' reps instead of deciding a whole block.
 *
 * <p>The op's timed work comes in stages (create-chain: one per depth; lifecycle: one, its timed rounds), each
 * announced {@code ready STAGE} once the side has done its untimed work for it. A run: the first side starts alone
 * and does its warm-up and the work up to its first stage, while nothing else of the benchmark runs; only then the
 * second side starts and does the same, while the first waits. At a stage both sides have, its {@code reps} (reps
 * or rounds) are timed in slices of {@code slice}: A B, B A, A B ... (the first side flips from run to run and from
 * stage to stage), each side timing its slice while the other's process waits on its stdin. Then each side in turn
 * goes on to its next stage, the other waiting. A stage only one side has (Strata's depths past moby's 128 lowers)
 * is timed by that side alone. Each side's figure for the run is the median of all its reps at the stage, as in a
 * block of its own; the run's ratio is the one {@link Comparison} takes between the two. {@link Commands} is a
 * side's end of the protocol.
 */
final class Lockstep {
    /** One side: its name (the block's side), its command, its arguments. */
    record Spec(String name, List<String> command, List<String> args) {
    }

    /** The two sides' roots: names of one length, no longer than a block's own root ("run"). */
    private static final List<String> ROOTS = List.of("a", "b");
    private final PeerSession session;
    private final String op, label;
    private final List<Spec> specs;
    /** A stage's reps (or rounds), the same for both sides. */
    private final ToIntFunction<String> reps;
    private final int slice;
    private final Function<JsonNode, Map<String, Double>> values;
    private int cachedRun = -1;
    private final List<Map<String, Double>> cached = new ArrayList<>(List.of(Map.of(), Map.of()));
    private final List<String> errors = new ArrayList<>(List.of("", ""));

    Lockstep(PeerSession session, String op, String label, Spec a, Spec b, int reps, int slice,
             Function<JsonNode, Map<String, Double>> values) {
        this(session, op, label, a, b, stage -> reps, slice, values);
        if (reps < slice) throw new IllegalArgumentException("lockstep: slice " + slice + " must be 1.." + reps);
    }

    /** {@code reps}: each stage's reps, by its token (create-chain: more at the depths whose ops take ~1 ms). */
    Lockstep(PeerSession session, String op, String label, Spec a, Spec b, ToIntFunction<String> reps, int slice,
             Function<JsonNode, Map<String, Double>> values) {
        if (slice < 1) throw new IllegalArgumentException("lockstep: slice " + slice + " must be at least 1");
        this.session = session;
        this.op = op;
        this.label = label;
        this.specs = List.of(a, b);
        this.reps = reps;
        this.slice = slice;
        this.values = values;
    }

    /**
     * Two sides of one op: in lockstep slices of {@code slice} of the stage's {@code reps}, or with {@code slice} 0 a
     * block per side ({@link PeerSide}), each in a process of its own on a fresh root of the session.
     */
    static List<Comparison.Side> orBlocks(PeerSession session, String op, String label, Spec a, Spec b, int reps, int slice,
                                          Function<JsonNode, Map<String, Double>> values) {
        if (slice > reps) throw new IllegalArgumentException("lockstep: slice " + slice + " must be 0.." + reps);
        return orBlocks(session, op, label, a, b, stage -> reps, slice, values);
    }

    /** As {@link #orBlocks(PeerSession, String, String, Spec, Spec, int, int, Function)}, each stage's reps by its token. */
    static List<Comparison.Side> orBlocks(PeerSession session, String op, String label, Spec a, Spec b, ToIntFunction<String> reps,
                                          int slice, Function<JsonNode, Map<String, Double>> values) {
        if (slice > 0) return new Lockstep(session, op, label, a, b, reps, slice, values).sides();
        return List.of(new PeerSide(a.name(), session, a.command(), op, label, a.args(), values),
                new PeerSide(b.name(), session, b.command(), op, label, b.args(), values));
    }

    /** The two sides as {@link Comparison} sides: whichever the comparison asks first runs the pair, starting first. */
    List<Comparison.Side> sides() {
        return List.of(side(0), side(1));
    }

    private Comparison.Side side(int i) {
        return new Comparison.Side() {
            @Override
            public String name() {
                return specs.get(i).name();
            }

            @Override
            public Map<String, Double> measure(int run) throws Exception {
                if (cachedRun != run) {
                    cachedRun = run;
                    for (int k = 0; k < 2; k++) {
                        cached.set(k, Map.of());
                        errors.set(k, "");
                    }
                    try {
                        runPair(run, i);
                    } catch (Exception e) {
                        String why = "lockstep run " + run + ": " + e.getMessage();
                        errors.set(0, why);
                        errors.set(1, why);
                    }
                }
                if (!errors.get(i).isEmpty()) throw new IOException(errors.get(i));
                return cached.get(i);
            }
        };
    }

    /** A running side: its process, its stdout, and the stage it waits at (null: it finished). */
    private static final class Proc {
        final int index;
        final Process p;
        final BufferedReader in;
        final Writer cmd;
        String waitingAt;
        String result;

        Proc(int index, Process p) {
            this.index = index;
            this.p = p;
            this.in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            this.cmd = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.US_ASCII);
        }

        /** Reads up to the next "ready STAGE" (waitingAt = STAGE) or the result line (waitingAt = null). */
        void advance() throws IOException {
            for (String line = in.readLine(); ; line = in.readLine()) {
                if (line == null) {
                    waitingAt = null;
                    return;
                }
                if (line.startsWith("ready ")) {
                    waitingAt = line.substring(6).strip();
                    return;
                }
                if (line.startsWith("{")) {
                    result = line;
                    waitingAt = null;
                    return;
                }
            }
        }

        void send(String line) throws IOException {
            cmd.write(line + "\n");
            cmd.flush();
        }

        void timeSlice(int n) throws IOException {
            send("reps " + n);
            for (String line = in.readLine(); line == null || !line.startsWith("done "); line = in.readLine()) {
                if (line == null) throw new IOException("a lockstep side ended in the middle of a slice");
            }
        }
    }

    private void runPair(int run, int first) throws Exception {
        String load = PeerSession.loadAverage().split(" ")[0];
        List<Proc> procs = new ArrayList<>();
        List<Integer> order = first == 0 ? List.of(0, 1) : List.of(1, 0);
        try {
            for (int i : order) {
                Spec s = specs.get(i);
                Path root = session.freshRoot(ROOTS.get(i));
                List<String> args = new ArrayList<>(s.args());
                args.add("-lockstep");
                Proc p = new Proc(i, session.start(s.command(), root, run, s.name(), op, label, args.toArray(String[]::new)));
                procs.add(p);
                p.advance();
            }
            int stage = 0;
            while (procs.stream().anyMatch(p -> p.waitingAt != null)) {
                List<Proc> here = atNextStage(procs);
                int all = reps.applyAsInt(here.getFirst().waitingAt);
                if (here.size() == 2) {
                    for (int s = 0, done = 0; done < all; s++) {
                        int n = Math.min(slice, all - done);
                        boolean flip = (s + stage) % 2 == 1;
                        here.get(flip ? 1 : 0).timeSlice(n);
                        here.get(flip ? 0 : 1).timeSlice(n);
                        done += n;
                    }
                } else {
                    here.getFirst().timeSlice(all);
                }
                stage++;
                // Each side goes on to its next stage (create-chain: builds on to its next depth) while the other waits.
                for (Proc p : here) {
                    p.send("next");
                    p.advance();
                }
            }
            for (Proc p : procs) {
                p.p.getOutputStream().close();
                if (!p.p.waitFor(10, TimeUnit.MINUTES)) throw new IOException(specs.get(p.index).name() + " did not exit");
                JsonNode r = session.record(p.result, load);
                String name = specs.get(p.index).name();
                System.err.printf("run=%d %-15s %-13s %-13s lockstep rc=%d load=%s%n", run, name, op, label, p.p.exitValue(), load);
                if (r == null) errors.set(p.index, name + " " + op + " wrote no result (see " + session.work.resolve("bench.log") + ")");
                else if (r.has("error")) errors.set(p.index, name + " " + op + ": " + r.get("error").asText());
                else cached.set(p.index, values.apply(r));
            }
        } finally {
            for (Proc p : procs) {
                if (p.p.isAlive()) {
                    p.p.destroy();
                    p.p.waitFor(30, TimeUnit.SECONDS);
                }
            }
            for (String r : ROOTS) session.freshRoot(r);
        }
    }

    /**
     * The sides waiting at the first stage: both if they wait at the same one (in run order), else the one whose
     * stage comes first (stages are numbers, create-chain's depths, committed ones "cN" after every plain depth).
     */
    private static List<Proc> atNextStage(List<Proc> procs) {
        List<Proc> waiting = procs.stream().filter(p -> p.waitingAt != null).toList();
        if (waiting.size() == 2 && waiting.get(0).waitingAt.equals(waiting.get(1).waitingAt)) return waiting;
        Proc lowest = waiting.getFirst();
        for (Proc p : waiting) if (rank(p.waitingAt) < rank(lowest.waitingAt)) lowest = p;
        return List.of(lowest);
    }

    private static long rank(String token) {
        return token.startsWith("c") ? 1_000_000L + Long.parseLong(token.substring(1)) : Long.parseLong(token);
    }

    /**
     * A side's end of the protocol ({@code -lockstep}, as the Go peers' {@code peerkit.Config.Slices}): {@code ready
     * STAGE} when it has done its untimed work for a stage, then a slice for each {@code reps N} on stdin, answered
     * {@code done STAGE}, until any other line (or the end of stdin) says go on.
     */
    static final class Commands {
        private final BufferedReader in;
        private final PrintStream out;

        Commands(BufferedReader in, PrintStream out) {
            this.in = in;
            this.out = out;
        }

        /** This process's stdin and stdout with {@code -lockstep}, else null (each stage timed at once). */
        static Commands of(Map<String, String> flags) {
            return flags.containsKey("lockstep")
                    ? new Commands(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)), System.out) : null;
        }

        /** Announces the stage; the first slice's size, or 0 if stdin says go on at once. */
        int ready(String stage) throws IOException {
            return answer("ready " + stage);
        }

        /** Answers a slice timed; the next slice's size, or 0 once stdin says go on. */
        int done(String stage) throws IOException {
            return answer("done " + stage);
        }

        private int answer(String line) throws IOException {
            out.println(line);
            out.flush();
            String cmd = in.readLine();
            return cmd != null && cmd.startsWith("reps ") ? Integer.parseInt(cmd.substring(5).strip()) : 0;
        }
    }
}
