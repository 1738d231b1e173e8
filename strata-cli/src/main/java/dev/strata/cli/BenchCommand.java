package dev.strata.cli;

import dev.strata.bench.VsMoby;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code strata bench}: one driver against moby's driver of the same kind, on this machine, under the benchmarks'
 * fairness rules ({@code benchmarks/README.md}): lifecycle, get+put by depth, apply and diff, each side a fresh
 * process on a fresh root of one loop ext4, sides alternating, the same warm-up on both, at least five runs.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = {
        "Compare a driver (-s) with moby's driver of the same kind on this machine and print the ratios with their spread:"
                + " lifecycle (create, get, put, remove), get+put at 0 to 128 lowers, apply and diff of 20,000 small and 20 large files.",
        "The two sides run in alternating order, do the same untimed warm-up, and each ratio is taken within a run;"
                + " the table gives the median and min-max of the per-run ratios and every run's value, with the load average.",
        "moby's side is a Go peer built from Debian's Go packages (golang-go, golang-github-docker-docker-dev, gcc,"
                + " which scripts/setup installs): from a clone of Strata's repository it is built on first use"
                + " (benchmarks/peers/build moby); elsewhere pass its path with --peer. Without one, each comparison is"
                + " reported as skipped, with the reason. The peer is ../shared/peerbench's moby driver code with a -warmup"
                + " flag, so that both sides do the same untimed rounds.",
        "Needs root (it mounts a loop ext4). A full run takes 15-30 minutes; run it on a quiet machine."})
final class BenchCommand extends CliCommand {
    @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Runs, at least 5 (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--only", paramLabel = "WHAT", split = ",",
            description = "Only these comparisons: lifecycle, depth, apply, diff (default: all).")
    List<String> only = new ArrayList<>();

    @Option(names = "--peer", paramLabel = "PATH", description = "The Go peer's binary (benchmarks/peers/build moby prints it).")
    Path peer;

    @Option(names = "--work", paramLabel = "DIR", defaultValue = "/tmp/strata-bench",
            description = "Scratch space: the loop ext4's sparse image (up to 8 GiB) and the raw results (default: ${DEFAULT-VALUE}).")
    Path work;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "/tmp/strata-bench-data",
            description = "Where the two data sets' tars are kept, written when missing (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "" + VsMoby.LIFECYCLE_WARMUP,
            description = "Untimed lifecycle rounds on both sides before the timed ones (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--chain-warmup", paramLabel = "N", defaultValue = "" + VsMoby.CHAIN_WARMUP,
            description = "Untimed rounds on both sides before the depth comparison (default: ${DEFAULT-VALUE}).")
    int chainWarmup;

    @Override
    protected void check() {
        if (runs < 5) throw new UsageException("--runs must be at least 5: fewer give no spread worth reporting");
        for (String o : only) {
            if (!VsMoby.OPS.contains(o)) throw new UsageException("--only: unknown comparison " + o + " (" + String.join(", ", VsMoby.OPS) + ")");
        }
        if (warmup < 0 || chainWarmup < 0) throw new UsageException("--warmup and --chain-warmup cannot be negative");
    }

    @Override
    protected String subject() {
        return null;
    }

    @Override
    protected int run() throws Exception {
        String driver = session().selection().provider().name();
        String peerImpl = VsMoby.PEERS.get(driver);
        if (peerImpl == null) {
            throw new UsageException("no moby peer for driver " + driver + " (drivers with one: " + String.join(", ", VsMoby.PEERS.keySet().stream().sorted().toList()) + ")");
        }
        List<String> ops = only.isEmpty() ? VsMoby.OPS : only;
        Path binary;
        if (peer != null) {
            if (!Files.isRegularFile(peer) || !Files.isExecutable(peer)) throw new UsageException("--peer: " + peer + " is not an executable file");
            binary = peer;
        } else {
            String why = null;
            binary = null;
            Path repo = repository();
            if (repo == null) {
                why = "no moby peer: this strata does not run from a clone of Strata's repository (benchmarks/peers/build"
                        + " builds one there; elsewhere pass its path with --peer)";
            } else {
                try {
                    binary = VsMoby.buildPeer(repo, "moby");
                } catch (java.io.IOException e) {
                    why = "no moby peer: " + e.getMessage();
                }
            }
            if (binary == null) return skipped(driver, peerImpl, ops, why);
        }
        VsMoby.Plan plan = new VsMoby.Plan(driver, session().options(), peerImpl, binary, data.toAbsolutePath(), ops, runs, 2000, warmup,
                chainWarmup, 50, 5, driver.equals("overlay"));
        VsMoby.Result r = VsMoby.run(plan, work.toAbsolutePath(), "strata " + driver + " against " + peerImpl);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("driver", driver);
        doc.put("peer", peerImpl);
        doc.put("runs", runs);
        doc.put("load_start", r.loadStart());
        doc.put("load_end", r.loadEnd());
        doc.put("raw", r.raw().toString());
        doc.put("rows", r.rows());
        emit(doc, () -> out().print(r.table()));
        return Main.OK;
    }

    /** Says that every comparison was skipped, and why (the peer could not be had): nothing was measured. */
    private int skipped(String driver, String peerImpl, List<String> ops, String why) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("driver", driver);
        doc.put("peer", peerImpl);
        doc.put("skipped", ops);
        doc.put("reason", why);
        emit(doc, () -> {
            for (String op : ops) out().println(op + ": skipped, " + why);
        });
        return Main.OK;
    }

    /** The clone the jar was built in (strata-cli/target/strata.jar), or the working directory, if it holds the peers. */
    private static Path repository() {
        List<Path> candidates = new ArrayList<>();
        try {
            Path jar = Path.of(BenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (jar.getParent() != null && jar.getParent().getParent() != null) candidates.add(jar.getParent().getParent().getParent());
        } catch (Exception ignored) {
            // no code source: only the working directory
        }
        candidates.add(Path.of("").toAbsolutePath());
        for (Path c : candidates) {
            if (c != null && Files.isExecutable(c.resolve("benchmarks/peers/build"))) return c;
        }
        return null;
    }
}
