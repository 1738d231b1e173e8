package dev.strata.bench;

import dev.strata.nativeio.Kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Strata's overlay driver against moby's overlay2 (peerbench's Go build of the real driver), interleaved: for each
 * run, each op runs for moby then for Strata, each on a fresh root on the same freshly made loop ext4 mounted
 * {@code nobarrier} (peerbench's default backing), so every ratio compares numbers taken minutes apart. Results are
 * peerbench JSON lines appended to {@code OUT}; the summary is printed at the end ({@link OverlayVsMobySummary}).
 *
 * <pre>scripts/bench OverlayVsMoby [RUNS]   (env: PEERBENCH, DATA, OUT, WORK, OPS, VARIANT_CP)</pre>
 *
 * <p>{@code VARIANT_CP}: class path entries put in front of Strata's for an extra, labelled run of lifecycle and
 * create-chain ("variant"), to measure a candidate change of a dependency (say a patched driver-api class) in the
 * same session as the code as it is.
 */
public final class OverlayVsMoby {
    private static final String MOBY = "moby-overlay2", STRATA = "strata-overlay";

    private final Path peerbench;
    private final Path data;
    private final PeerSession s;
    private final String variantCp = env("VARIANT_CP", "");

    private OverlayVsMoby(Path peerbench, Path data, PeerSession s) {
        this.peerbench = peerbench;
        this.data = data;
        this.s = s;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path peerbench = Path.of(env("PEERBENCH", "/tmp/peerbench/bin/peerbench"));
        Path data = Path.of(env("DATA", "/tmp/peerbench/data"));
        Path out = Path.of(env("OUT", "/tmp/peerbench/results.jsonl"));
        Path work = Path.of(env("WORK", "/tmp/strata-ovb"));
        List<String> ops = List.of(env("OPS", "lifecycle create-chain apply diff").split("\\s+"));
        if (!Kernel.isRoot()) fail("must run as root (mounts, loop devices)");
        if (!Files.isExecutable(peerbench)) {
            fail(peerbench + " is missing: build it as ../shared/peerbench/README.md says (INSTALL_DEPS=1 ./run.sh once, "
                    + "or GO111MODULE=off GOPATH=/usr/share/gocode:$PWD/gopath go build -o " + peerbench + " .)");
        }
        for (String t : List.of("small-files.tar", "large-files.tar")) {
            if (!Files.exists(data.resolve(t))) fail(data.resolve(t) + " is missing: " + peerbench + " gen-tar (see peerbench's run.sh)");
        }
        PeerSession s = new PeerSession(out, work, "ovm", false);
        OverlayVsMoby b = new OverlayVsMoby(peerbench, data, s);
        Path img = work.resolve("backing.img");
        // peerbench's BACKING=loop: a fresh 8 GiB sparse ext4 (no lazy init), mounted nobarrier.
        s.mountBacking(img, 8L << 30, List.of("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"), "ext4", "nobarrier");
        try {
            s.meta("ext4 loop nobarrier", "start");
            for (int run = 1; run <= runs; run++) {
                System.err.println("=== session " + s.session + " run " + run + "/" + runs + " -> " + out);
                for (String op : ops) b.op(op, run);
            }
        } finally {
            s.unmountBacking(img);
        }
        OverlayVsMobySummary.print(out, s.session);
    }

    private void op(String op, int run) throws Exception {
        switch (op) {
            case "lifecycle" -> {
                // 2,000 timed rounds, not peerbench's default 200: the median of 200 rounds (0.2 s) moves by a third
                // from run to run on this machine, for moby as for Strata, with the ext4 journal's commits.
                bench(run, MOBY, "lifecycle", "empty-base", "-n", "2000");
                // 10,000 untimed rounds: the JIT's steady state (C2 compiles a method after ~10k calls), as in a
                // long-running engine; "cold" is a fresh JVM's first 200 rounds.
                bench(run, STRATA, "lifecycle", "warm", "-n", "2000", "-warmup", "10000");
                bench(run, STRATA, "lifecycle", "cold", "-n", "200", "-warmup", "0");
                if (!variantCp.isEmpty()) bench(run, STRATA, "lifecycle", "warm-variant", "-n", "2000", "-warmup", "10000");
            }
            case "create-chain" -> {
                bench(run, MOBY, "create-chain", "tiny-layers", "-depth", "100", "-depths", "1,10,50,100,127,128,129,130", "-reps", "50");
                bench(run, STRATA, "create-chain", "tiny-layers", "-depth", "100", "-warmup", "2000",
                        "-depths", "1,10,50,100,127,128,129,130,200,300,400,500,501", "-committed-depths", "500", "-reps", "50");
                if (!variantCp.isEmpty()) {
                    bench(run, STRATA, "create-chain", "tiny-layers-variant", "-depth", "100", "-warmup", "2000",
                            "-depths", "1,10,50,100,127,128,129,130,200,300,400,500,501", "-committed-depths", "500", "-reps", "50");
                }
            }
            case "apply", "diff" -> {
                for (String t : List.of("small-files", "large-files")) {
                    bench(run, MOBY, op, t, "-tar", data.resolve(t + ".tar").toString(), "-reps", "5");
                    bench(run, STRATA, op, t, "-tar", data.resolve(t + ".tar").toString(), "-reps", "5", "-warmup", "1");
                }
            }
            default -> fail("unknown op " + op + " (lifecycle, create-chain, apply, diff)");
        }
    }

    private void bench(int run, String impl, String op, String label, String... extra) throws Exception {
        List<String> cmd = impl.equals(MOBY) ? List.of(peerbench.toString()) : PeerSession.strata(label.endsWith("-variant") ? variantCp : "");
        s.bench(cmd, run, impl, op, label, extra);
    }

    private static String env(String k, String def) {
        String v = System.getenv(k);
        return v == null || v.isBlank() ? def : v;
    }

    private static void fail(String why) {
        System.err.println("OverlayVsMoby: " + why);
        System.exit(2);
    }
}
