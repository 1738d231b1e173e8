package dev.strata.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Strata's overlay driver against moby's overlay2 ({@code benchmarks/peers/moby}, moby 20.10's driver through its Go
 * package): lifecycle, get+put by depth, apply and diff, as a {@link Comparison} ({@link VsMoby}).
 *
 * <pre>scripts/bench OverlayVsMoby [RUNS]   (env: OPS, DATA, WORK, LIFECYCLE_ROUNDS, LIFECYCLE_WARMUP, LIFECYCLE_SLICE (0: a block per side),
 * CHAIN_WARMUP, DEPTH_WARMUP, CHAIN_REPS, CHAIN_REPS_SHALLOW (in lockstep, at 0–50 lowers), CHAIN_SLICE (0: a block per side), LOWERS (say 0,1,5: a subset of the depths, to split a series), DEEP=0 (no Strata-alone depths);
 * RUNS default 5; the warm-up defaults are what Strata's JIT needs to be done before timing: fewer time tier-3 code)</pre>
 */
public final class OverlayVsMoby {
    private OverlayVsMoby() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : Comparison.MIN_RUNS;
        Path work = Path.of(env("WORK", "/tmp/strata-ovm"));
        Path peer = VsMoby.buildPeer(Path.of("").toAbsolutePath(), "moby");
        VsMoby.Plan plan = new VsMoby.Plan("overlay", List.of(), "moby-overlay2", peer, Path.of(env("DATA", "/tmp/strata-bench-data")),
                List.of(env("OPS", String.join(" ", VsMoby.OPS)).split("\\s+")), runs, Integer.parseInt(env("LIFECYCLE_ROUNDS", "2000")),
                Integer.parseInt(env("LIFECYCLE_WARMUP", Integer.toString(VsMoby.LIFECYCLE_WARMUP))),
                Integer.parseInt(env("CHAIN_WARMUP", Integer.toString(VsMoby.CHAIN_WARMUP))),
                Integer.parseInt(env("DEPTH_WARMUP", Integer.toString(VsMoby.DEPTH_WARMUP))),
                Integer.parseInt(env("CHAIN_REPS", Integer.toString(VsMoby.CHAIN_REPS))), 5, !env("DEEP", "1").equals("0"),
                Integer.parseInt(env("CHAIN_SLICE", Integer.toString(VsMoby.CHAIN_SLICE))),
                Arrays.stream(env("LOWERS", VsMoby.LOWERS.stream().map(String::valueOf).collect(Collectors.joining(","))).split(","))
                        .map(String::strip).map(Integer::valueOf).toList(),
                Integer.parseInt(env("LIFECYCLE_SLICE", Integer.toString(VsMoby.LIFECYCLE_SLICE))),
                Integer.parseInt(env("CHAIN_REPS_SHALLOW", Integer.toString(VsMoby.CHAIN_REPS_SHALLOW))));
        System.out.print(VsMoby.run(plan, work, "Strata overlay against moby overlay2").table());
    }

    static String env(String k, String def) {
        String v = System.getenv(k);
        return v == null || v.isBlank() ? def : v;
    }
}
