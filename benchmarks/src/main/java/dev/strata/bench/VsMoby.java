package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.nativeio.Kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

import static dev.strata.bench.Comparison.Goal;
import static dev.strata.bench.Comparison.Metric;

/**
 * A Strata driver against moby's driver of the same kind (a Go peer: moby 20.10's driver through its Go package),
 * as a {@link Comparison}: every side of a run is one process on a fresh root of one freshly made loop filesystem,
 * the peer and Strata's {@link PeerBench} doing the same untimed warm-up before they time anything; the warm
 * lifecycle and the depths are timed in {@link Lockstep} (both processes alive, alternating slices), the rest a block
 * per side.
 *
 * <ul>
 *   <li>lifecycle: create, get, put and remove of a child of an empty layer, {@code lifecycleWarmup} rounds first
 *   (a long-running engine's steady state), and the same in a fresh process (no warm-up on either side);</li>
 *   <li>depth: get+put of the top of a chain of layers at 0 to 128 lowers (and, for Strata alone, to 500), after
 *   {@code chainWarmup} untimed rounds;</li>
 *   <li>apply and diff of peerbench's two data sets, one untimed rep first.</li>
 * </ul>
 */
public final class VsMoby {
    /** Lowers at which get+put is timed; moby mounts up to 128. */
    public static final List<Integer> LOWERS = List.of(0, 1, 5, 10, 20, 50, 100, 128);
    /** Deeper stacks, Strata's alone (the kernel's limit is 500 lowers). */
    public static final List<Integer> DEEP_LOWERS = List.of(200, 500);
    public static final List<String> OPS = List.of("lifecycle", "depth", "apply", "diff");
    /** Strata's driver to the Go peer's {@code -impl} of the same kind. */
    public static final java.util.Map<String, String> PEERS = java.util.Map.of("overlay", "moby-overlay2", "vfs", "moby-vfs");
    private static final Goal PER_OP = Goal.ratio(1.0, 1.2);
    /*
     * The untimed warm-up, the same on both sides, sized so that Strata's JIT is done before anything is timed
     * (measured with -XX:+PrintCompilation, benchmarks/README.md "Warm-up"): the last of overlay's create, get, put and
     * remove reaches C2 after ~13,000 lifecycle rounds; create-chain's warm-up rounds make 9 get+puts each.
     */
    /** Untimed lifecycle rounds before the timed ones. */
    public static final int LIFECYCLE_WARMUP = 15_000;
    /**
     * The warm lifecycle's rounds are timed in lockstep ({@link Lockstep}): slices of this many rounds (~50 ms of
     * ~0.5 ms rounds), the two sides' slices alternating A B B A. Short against the seconds a neighbour's burst or
     * writeback lasts, so both sides meet it; long against a switch (a pipe write and a wake-up, ~0.1 ms, and the
     * first round after it on caches the other process used): that round is 1 in 100 of a side's, which cannot move
     * its median. 0: each side's rounds in a block of its own.
     */
    public static final int LIFECYCLE_SLICE = 100;
    /** Untimed rounds of create-chain's warm-up ({@link JitWarmUp}). */
    public static final int CHAIN_WARMUP = 2_000;
    /** Timed get+puts per depth and side in a run. */
    public static final int CHAIN_REPS = 200;
    /**
     * Timed get+puts per side in a run at the depths of 0 to 50 lowers, in lockstep. A get+put there is ~1 ms on both
     * sides, most of it the kernel's mount and unmount, whose put is bimodal on this machine (~0.4 ms, or a few ms when
     * it waits on the journal or an RCU grace period) with the slow share drifting from run to run: with 200 reps a
     * side's median sat between the two modes in some runs and the run's ratio swung to 1.3–1.5 with both sides at the
     * same code. Five times the reps cost ~1 s per depth and run; the deeper depths (5–10 ms a rep) keep {@link #CHAIN_REPS}.
     */
    public static final int CHAIN_REPS_SHALLOW = 1000;
    /**
     * The depth comparison's reps are timed in lockstep ({@link Lockstep}): slices of this many reps, the two sides'
     * slices alternating A B B A. 0: each side's reps in a block of its own, as every other comparison.
     */
    public static final int CHAIN_SLICE = 10;
    /** Untimed get+puts of a depth's layer right before its timed reps. */
    public static final int DEPTH_WARMUP = 20;
    /**
     * The depths of create-chain's warm-up leaves (its JIT warm-up, {@link JitWarmUp}): every timed depth at which
     * both sides mount with mount(2) and one page of options (0 to 50 lowers). Past it moby re-executes a helper for
     * each mount (~37 ms), which would make the warm-up minutes long; Strata is 20x ahead there anyway.
     */
    static final String WARMUP_DEPTHS = "1,2,6,11,21,51";
    /** The depths that take {@code shallowReps} in lockstep: 0 to this many lowers. */
    static final int SHALLOW_LOWERS = 50;

    /** Whether a create-chain stage (a depth, or "cN" for a committed layer) is one of {@link #SHALLOW_LOWERS}. */
    static boolean shallow(String stage) {
        return !stage.startsWith("c") && Integer.parseInt(stage) <= SHALLOW_LOWERS + 1;
    }

    /** Before every block: sync(2), so that no side pays for the writeback of what the block before it left dirty. */
    private static final Comparison.Prepare SYNC = side -> PeerBench.sync();

    /**
     * @param driver       Strata's driver; {@code driverOpts} its options
     * @param peerImpl     the peer's {@code -impl}: moby-overlay2, moby-vfs
     * @param deep         the driver stacks past moby's 128 lowers (overlay): time Strata alone there
     */
    public record Plan(String driver, List<String> driverOpts, String peerImpl, Path peer, Path data, List<String> ops, int runs,
                       int lifecycleRounds, int lifecycleWarmup, int chainWarmup, int depthWarmup, int chainReps, int bulkReps, boolean deep,
                       int chainSlice, List<Integer> lowers, int lifecycleSlice, int shallowReps) {
        /**
         * The warm lifecycle in lockstep slices of {@link #LIFECYCLE_SLICE} rounds, depth in slices of
         * {@link #CHAIN_SLICE} reps, at every depth of {@link #LOWERS}, {@code chainReps} at each.
         */
        public Plan(String driver, List<String> driverOpts, String peerImpl, Path peer, Path data, List<String> ops, int runs,
                    int lifecycleRounds, int lifecycleWarmup, int chainWarmup, int depthWarmup, int chainReps, int bulkReps, boolean deep) {
            this(driver, driverOpts, peerImpl, peer, data, ops, runs, lifecycleRounds, lifecycleWarmup, chainWarmup, depthWarmup, chainReps,
                    bulkReps, deep, Math.min(CHAIN_SLICE, chainReps), LOWERS, Math.min(LIFECYCLE_SLICE, lifecycleRounds), chainReps);
        }

        /** With the default untimed get+puts at each depth before its timed reps. */
        public Plan(String driver, List<String> driverOpts, String peerImpl, Path peer, Path data, List<String> ops, int runs,
                    int lifecycleRounds, int lifecycleWarmup, int chainWarmup, int chainReps, int bulkReps, boolean deep) {
            this(driver, driverOpts, peerImpl, peer, data, ops, runs, lifecycleRounds, lifecycleWarmup, chainWarmup, DEPTH_WARMUP, chainReps,
                    bulkReps, deep);
        }
    }

    /** A finished comparison: the Markdown table, its rows as values, and where the raw lines went. */
    public record Result(String table, List<Map<String, Object>> rows, String loadStart, String loadEnd, Path raw, String session) {
    }

    private final Plan plan;
    private final PeerSession session;

    VsMoby(Plan plan, PeerSession session) {
        this.plan = plan;
        this.session = session;
    }

    Comparison comparison(String title) {
        Comparison c = new Comparison(title, plan.runs(), session.work.resolve("blocks.jsonl"));
        for (String op : plan.ops()) {
            switch (op) {
                case "lifecycle" -> {
                    List<Metric> m = new ArrayList<>();
                    for (String p : List.of("create", "get", "put", "remove", "round")) m.add(Metric.time(p, p + ", µs", PER_OP));
                    m.add(Metric.time("cpu", "CPU of the process per round, µs", null));
                    m.add(Metric.time("jit", "JIT compiling during the timed rounds, ms", null));
                    List<String> warm = List.of("-n", Integer.toString(plan.lifecycleRounds()), "-warmup", Integer.toString(plan.lifecycleWarmup()));
                    c.add(new Comparison.Case("lifecycle, warm (" + plan.lifecycleWarmup() + " rounds first, "
                            + (plan.lifecycleSlice() > 0 ? "lockstep slices of " + plan.lifecycleSlice() + " rounds)" : "a block per side)"),
                            sides("lifecycle", "warm", PeerSide::lifecycle, warm, warm, stage -> plan.lifecycleRounds(), plan.lifecycleSlice()), m,
                            SYNC));
                    List<Metric> cold = m.stream().map(x -> Metric.time(x.key(), x.label(), null)).toList();
                    c.add(pair("lifecycle, fresh process", "lifecycle", "cold", cold, SYNC, "-n", "200", "-warmup", "0"));
                }
                case "depth" -> {
                    List<Metric> m = new ArrayList<>();
                    for (int l : plan.lowers()) m.add(Metric.time("D=" + (l + 1), "get+put, " + l + " lowers, µs", PER_OP));
                    List<Integer> depths = new ArrayList<>(plan.lowers().stream().map(l -> l + 1).toList());
                    if (plan.deep()) {
                        for (int l : DEEP_LOWERS) m.add(Metric.time("D=" + (l + 1), "get+put, " + l + " lowers, µs", Goal.value(10_000)));
                        m.add(Metric.time("committed D=500", "get+put, read-only layer on 499 lowers, µs", Goal.value(10_000)));
                        depths.addAll(DEEP_LOWERS.stream().map(l -> l + 1).toList());
                    }
                    m.add(Metric.time("create+apply", "create + apply of a 1 KiB layer, µs", null));
                    for (int l : plan.lowers()) m.add(Metric.time("cpu D=" + (l + 1), "CPU of the process per get+put, " + l + " lowers, µs", null));
                    m.add(Metric.time("jit", "JIT compiling during the timed reps at 0–50 lowers (the warm-up's depths), ms", null));
                    String ds = depths.stream().map(String::valueOf).collect(Collectors.joining(","));
                    int top = depths.stream().mapToInt(Integer::intValue).max().orElse(1);
                    List<String> common = List.of("-depth", Integer.toString(Math.min(100, top)), "-reps", Integer.toString(plan.chainReps()),
                            "-warmup", Integer.toString(plan.chainWarmup()), "-warmup-depths", WARMUP_DEPTHS, "-depth-warmup",
                            Integer.toString(plan.depthWarmup()));
                    List<String> strataArgs = concat(common, plan.deep() ? List.of("-depths", ds, "-committed-depths", "500") : List.of("-depths", ds));
                    String mobyDepths = plan.lowers().stream().map(l -> String.valueOf(l + 1)).collect(Collectors.joining(","));
                    List<String> mobyArgs = concat(common, List.of("-depths", mobyDepths));
                    List<Comparison.Side> sides = sides("create-chain", "tiny-layers", PeerSide::chain, strataArgs, mobyArgs,
                            stage -> shallow(stage) ? plan.shallowReps() : plan.chainReps(), plan.chainSlice());
                    String reps = plan.chainSlice() > 0 && plan.shallowReps() != plan.chainReps()
                            ? plan.shallowReps() + " reps to " + SHALLOW_LOWERS + " lowers, " + plan.chainReps() + " past, " : plan.chainReps() + " reps, ";
                    c.add(new Comparison.Case("depth (" + plan.chainWarmup() + " warm-up rounds, " + plan.depthWarmup() + " per depth, " + reps
                            + (plan.chainSlice() > 0 ? "lockstep slices of " + plan.chainSlice() + ")" : "a block per side)"),
                            sides, m, SYNC));
                }
                case "apply", "diff" -> {
                    for (String set : List.of("small-files", "large-files")) {
                        Path tar = plan.data().resolve(set + ".tar");
                        List<Metric> m = List.of(Metric.rate("MB/s", "MB/s", Goal.ratio(1.0, Double.NaN)));
                        c.add(pair(op + " " + set, op, set, m, Comparison.warmFiles(tar), "-tar", tar.toString(),
                                "-reps", Integer.toString(plan.bulkReps()), "-warmup", "1"));
                    }
                }
                default -> throw new IllegalArgumentException("unknown comparison " + op + " (" + String.join(", ", OPS) + ")");
            }
        }
        return c;
    }

    private Comparison.Case pair(String name, String op, String label, List<Metric> metrics, Comparison.Prepare prepare, String... args) {
        Function<JsonNode, Map<String, Double>> values = op.equals("lifecycle") ? PeerSide::lifecycle : PeerSide::rate;
        return new Comparison.Case(name, sides(op, label, values, List.of(args), List.of(args), stage -> 0, 0), metrics, prepare);
    }

    /**
     * Strata's side and the peer's, with these arguments each: in lockstep slices of {@code slice} of each stage's
     * {@code reps} ({@link Lockstep}), or with {@code slice} 0 a block per side, as every other comparison.
     */
    private List<Comparison.Side> sides(String op, String label, Function<JsonNode, Map<String, Double>> values,
                                        List<String> strataArgs, List<String> peerArgs, ToIntFunction<String> reps, int slice) {
        String strata = "strata-" + plan.driver();
        List<String> a = plan.driverOpts().isEmpty() ? strataArgs : concat(strataArgs, List.of("-driver-opts", String.join(",", plan.driverOpts())));
        return Lockstep.orBlocks(session, op, label, new Lockstep.Spec(strata, PeerSession.strata(), a),
                new Lockstep.Spec(plan.peerImpl(), List.of(plan.peer().toString()), peerArgs), reps, slice, values);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Makes the data sets when missing, mounts a fresh loop ext4 as every root's backing, runs, unmounts. */
    public static Result run(Plan plan, Path work, String title) throws Exception {
        if (!Kernel.isRoot()) throw new IllegalStateException("must run as root (mounts, loop devices)");
        Files.createDirectories(plan.data());
        for (DataSets set : List.of(DataSets.SMALL, DataSets.LARGE)) {
            Path t = plan.data().resolve((set == DataSets.SMALL ? "small-files" : "large-files") + ".tar");
            if (!Files.exists(t) && (plan.ops().contains("apply") || plan.ops().contains("diff"))) {
                System.err.println("writing " + t);
                set.writeTar(t);
            }
        }
        Files.createDirectories(work);
        PeerSession s = new PeerSession(work.resolve("results.jsonl"), work, "vs-" + plan.peerImpl(), false);
        Path img = work.resolve("backing.img");
        // peerbench's BACKING=loop: a fresh 8 GiB sparse ext4 (no lazy init), mounted nobarrier.
        s.mountBacking(img, 8L << 30, List.of("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"), "ext4", "nobarrier");
        Comparison c;
        try {
            s.meta("ext4 loop nobarrier", "start");
            c = new VsMoby(plan, s).comparison(title).run();
            s.meta("ext4 loop nobarrier", "end");
        } finally {
            s.unmountBacking();
        }
        String table = c.table() + "\nRaw: " + s.out + " (session " + s.session + "), " + work.resolve("blocks.jsonl") + "; kernel "
                + Kernel.release() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, Java " + Runtime.version()
                + ", backing ext4 on a loop device, nobarrier.\n";
        return new Result(table, c.summary(), c.loadAtStart(), c.loadAtEnd(), s.out, s.session);
    }

    /** benchmarks/peers/build PEER from the repository at {@code repo}; the path of the binary. */
    public static Path buildPeer(Path repo, String peer) throws IOException, InterruptedException {
        Path script = repo.resolve("benchmarks/peers/build");
        if (!Files.isExecutable(script)) throw new IOException(script + " not found: the Go peers are built from a clone of Strata's repository");
        Process p = new ProcessBuilder(script.toString(), peer).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String path = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("cannot build the Go peer " + peer + " (" + script + "; see above)");
        }
        return Path.of(path);
    }
}
