package dev.strata.bench;

import dev.strata.nativeio.Kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.strata.bench.OverlayVsMoby.env;

/**
 * Strata's btrfs driver against moby 20.10's ({@code benchmarks/peers/moby-btrfs}, the real driver through its Go
 * package), on one freshly made loop btrfs, each op on a fresh root, the two sides alternating (moby first in odd
 * runs, Strata first in even ones) so that every ratio compares numbers taken seconds apart:
 * <ul>
 *   <li>create-child: create a child of a layer of 2,000, 20,000 and 200,000 files of 1 KiB (a snapshot: O(1));
 *   at 20,000 also Strata's vfs (a reflink copy) and overlay on the same btrfs;</li>
 *   <li>lifecycle: create/get/put/remove of a child of an empty layer, in {@link Lockstep} as OverlayVsMoby's warm
 *   lifecycle (both processes alive for the run, each warmed up alone, then the timed rounds in alternating slices of
 *   {@code LIFECYCLE_SLICE} rounds; 0: a block per side);</li>
 *   <li>apply and diff of peerbench's two data sets (20,000 x 4 KiB, 20 x 20 MiB).</li>
 * </ul>
 * Both sides are warmed the same way (the same untimed rounds or reps first; the lifecycle's are enough for Strata's
 * JIT to be done, {@link #LIFECYCLE_WARMUP}), tars are read once into the page cache before timing, and sync(2) runs before every
 * timed rep. Results are peerbench JSON lines appended to {@code OUT}; the table is printed at the end
 * ({@link BtrfsVsMobySummary}).
 *
 * <pre>scripts/bench BtrfsVsMoby [RUNS]   (env: DATA, OUT, WORK, OPS, FILES, ALSO, LIFECYCLE_ROUNDS, LIFECYCLE_WARMUP, LIFECYCLE_SLICE;
 * RUNS default 5)</pre>
 *
 * {@code FILES} picks the create-child series by file count (default {@code 2000 20000 200000}) and {@code ALSO} the
 * other Strata drivers measured at 20,000 files (default {@code vfs overlay}, {@code none} for none), so that a
 * session fits in the benchmark lock's ~20 minutes on 2 busy cores.
 */
public final class BtrfsVsMoby {
    static final String MOBY = "moby-btrfs", STRATA = "strata-btrfs";
    /**
     * Untimed lifecycle rounds on both sides: Strata's JIT compiles the last of create/get/put/remove with C2 after
     * ~14,000 rounds (-XX:+PrintCompilation, benchmarks/README.md); with fewer, the timed rounds run tier-3 code.
     */
    static final int LIFECYCLE_WARMUP = 15_000;
    /** The O(1) series: files of 1 KiB, a hundred to a directory. */
    static final List<DataSets> SERIES = List.of(new DataSets("2,000 x 1 KiB", 2_000, 20, 1024),
            new DataSets("20,000 x 1 KiB", 20_000, 200, 1024), new DataSets("200,000 x 1 KiB", 200_000, 2_000, 1024));

    private final List<String> peer;
    private final Path data;
    private final PeerSession s;
    private final List<DataSets> series;
    private final List<String> also;
    /** The warm lifecycle's two sides, Strata's first: in lockstep ({@link Lockstep}), or a block each. */
    private final List<Comparison.Side> lifecycle;

    private BtrfsVsMoby(Path peer, Path data, PeerSession s, List<DataSets> series, List<String> also, int rounds, int warmup, int slice) {
        this.peer = List.of(peer.toString());
        this.data = data;
        this.s = s;
        this.series = series;
        this.also = also;
        List<String> args = List.of("-n", Integer.toString(rounds), "-warmup", Integer.toString(warmup));
        this.lifecycle = Lockstep.orBlocks(s, "lifecycle", "empty-base", new Lockstep.Spec(STRATA, PeerSession.strata(), args),
                new Lockstep.Spec(MOBY, this.peer, args), rounds, Math.min(slice, rounds), PeerSide::lifecycle);
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path data = Path.of(env("DATA", "/tmp/strata-bbm/data"));
        Path out = Path.of(env("OUT", "/tmp/strata-bbm/results.jsonl"));
        Path work = Path.of(env("WORK", "/tmp/strata-bbm"));
        List<String> ops = List.of(env("OPS", "create-child lifecycle apply diff").split("\\s+"));
        List<String> files = List.of(env("FILES", "2000 20000 200000").split("\\s+"));
        List<DataSets> series = SERIES.stream().filter(d -> files.contains(Integer.toString(d.files()))).toList();
        if (series.size() != files.size()) fail("FILES takes 2000, 20000 and 200000, not " + files);
        String alsoEnv = env("ALSO", "vfs overlay");
        List<String> also = alsoEnv.equals("none") ? List.of() : List.of(alsoEnv.split("\\s+"));
        int rounds = Integer.parseInt(env("LIFECYCLE_ROUNDS", "2000"));
        int warmup = Integer.parseInt(env("LIFECYCLE_WARMUP", Integer.toString(LIFECYCLE_WARMUP)));
        int slice = Integer.parseInt(env("LIFECYCLE_SLICE", Integer.toString(VsMoby.LIFECYCLE_SLICE)));
        if (!Kernel.isRoot()) fail("must run as root (mounts, loop devices)");
        Path peer = VsMoby.buildPeer(Path.of("").toAbsolutePath(), MOBY);
        Files.createDirectories(data);
        // only the data the chosen ops read: writing 800 MB of tars for a lifecycle-only session costs minutes
        List<DataSets> sets = new ArrayList<>(ops.contains("create-child") ? series : List.of());
        if (ops.contains("apply") || ops.contains("diff")) sets.addAll(List.of(DataSets.SMALL, DataSets.LARGE));
        for (DataSets set : sets) {
            Path t = tar(data, set);
            if (!Files.exists(t)) {
                System.err.println("writing " + t);
                set.writeTar(t);
            }
        }
        PeerSession s = new PeerSession(out, work, "bbm", true);
        BtrfsVsMoby b = new BtrfsVsMoby(peer, data, s, series, also, rounds, warmup, slice);
        Path img = work.resolve("btrfs.img");
        // 32 GiB of sparse file, nobarrier as peerbench's ext4: no flushes of the image to the host's disk.
        s.mountBacking(img, 32L << 30, List.of("mkfs.btrfs", "-q", "-f"), "btrfs", "nobarrier");
        try {
            s.meta("btrfs loop nobarrier", "start");
            for (int run = 1; run <= runs; run++) {
                boolean mobyFirst = run % 2 == 1;
                System.err.println("=== session " + s.session + " run " + run + "/" + runs + (mobyFirst ? " (moby first)" : " (Strata first)"));
                for (String op : ops) b.op(op, run, mobyFirst);
            }
            s.meta("btrfs loop nobarrier", "end");
        } finally {
            s.unmountBacking();
        }
        BtrfsVsMobySummary.print(out, s.session);
    }

    static Path tar(Path data, DataSets s) {
        return data.resolve(s.files() + "x" + s.size() + ".tar");
    }

    private void op(String op, int run, boolean mobyFirst) throws Exception {
        switch (op) {
            case "create-child" -> {
                for (DataSets set : series) {
                    String label = set.files() + "-files";
                    String t = tar(data, set).toString();
                    // 200 untimed rounds first on both sides (of a child of an empty layer): a fresh JVM's first creates
                    // pay for class loading and linking the FFM calls (milliseconds each) and run interpreted.
                    // 5 reps at 200,000 files: moby's remove of each child walks the whole tree (~5 s a rep).
                    String reps = set.files() >= 200_000 ? "5" : "10";
                    both(mobyFirst, impl -> bench(run, impl, "create-child", label, "-tar", t, "-reps", reps, "-warmup", "200"));
                    if (set.files() == 20_000) {
                        for (String other : also) {
                            bench(run, "strata-" + other, "create-child", label, "-tar", t, "-reps", other.equals("vfs") ? "5" : "10", "-warmup", "200");
                        }
                    }
                }
            }
            case "lifecycle" -> {
                // the side measured first starts first; in lockstep it runs the pair, and the other reads its values
                for (Comparison.Side side : mobyFirst ? lifecycle.reversed() : lifecycle) {
                    try {
                        side.measure(run);
                    } catch (IOException e) {
                        System.err.println("run=" + run + " " + side.name() + " lifecycle: " + e.getMessage());
                    }
                }
            }
            case "apply", "diff" -> {
                for (DataSets set : List.of(DataSets.SMALL, DataSets.LARGE)) {
                    String label = set == DataSets.SMALL ? "small-files" : "large-files";
                    String t = tar(data, set).toString();
                    both(mobyFirst, impl -> bench(run, impl, op, label, "-tar", t, "-reps", "5", "-warmup", "1"));
                }
            }
            default -> fail("unknown op " + op + " (create-child, lifecycle, apply, diff)");
        }
    }

    private interface Side {
        void run(String impl) throws Exception;
    }

    /** Both sides, in the run's order. */
    private static void both(boolean mobyFirst, Side side) throws Exception {
        side.run(mobyFirst ? MOBY : STRATA);
        side.run(mobyFirst ? STRATA : MOBY);
    }

    private void bench(int run, String impl, String op, String label, String... extra) throws Exception {
        s.bench(impl.equals(MOBY) ? peer : PeerSession.strata(), run, impl, op, label, extra);
    }

    private static void fail(String why) {
        System.err.println("BtrfsVsMoby: " + why);
        System.exit(2);
    }
}
