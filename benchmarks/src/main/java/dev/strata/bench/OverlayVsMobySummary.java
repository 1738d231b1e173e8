package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The table of an {@link OverlayVsMoby} session: for each metric, moby's and Strata's value in each run, the
 * ratio within each run (both taken minutes apart on the same backing), and the median over runs.
 *
 * <pre>scripts/bench OverlayVsMobySummary RESULTS.jsonl SESSION</pre>
 */
public final class OverlayVsMobySummary {
    private OverlayVsMobySummary() {
    }

    /** One row: how to pick each side's line and read the value. {@code higherIsBetter}: a rate, else a time. */
    private record Metric(String name, String op, String mobyLabel, String strataLabel, Function<JsonNode, Double> value,
                          boolean higherIsBetter, String goal) {
    }

    public static void main(String[] args) throws Exception {
        print(Path.of(args[0]), args[1]);
    }

    static void print(Path results, String session) throws Exception {
        List<JsonNode> lines = PeerTable.load(results, session);
        List<Metric> metrics = new ArrayList<>();
        for (String phase : List.of("create", "get", "put", "remove")) {
            metrics.add(new Metric("lifecycle " + phase + ", µs (2,000 rounds; Strata JIT-warm: 10,000 rounds first)", "lifecycle", "empty-base", "warm",
                    n -> PeerTable.num(n.path("phases").path(phase).path("median_us")), false, "≤ 1.0"));
        }
        metrics.add(new Metric("lifecycle create+get+put+remove, µs (warm)", "lifecycle", "empty-base", "warm", n -> PeerTable.num(n.path("median_us")), false, "≤ 1.0"));
        for (String phase : List.of("create", "get", "put", "remove")) {
            metrics.add(new Metric("lifecycle " + phase + ", µs (warm, VARIANT_CP)", "lifecycle", "empty-base", "warm-variant",
                    n -> PeerTable.num(n.path("phases").path(phase).path("median_us")), false, ""));
        }
        for (String phase : List.of("create", "get", "put", "remove")) {
            metrics.add(new Metric("lifecycle " + phase + ", µs (Strata cold JVM, first 200 rounds)", "lifecycle", "empty-base", "cold",
                    n -> PeerTable.num(n.path("phases").path(phase).path("median_us")), false, ""));
        }
        metrics.add(new Metric("create-chain: create+applyDiff(1 KiB) per layer, µs", "create-chain", "tiny-layers", "tiny-layers",
                n -> PeerTable.num(n.path("chain_create_apply").path("median_us")), false, ""));
        for (int d : List.of(1, 10, 50, 100, 128, 129, 130, 200, 300, 400, 500, 501)) {
            metrics.add(new Metric("create-chain: get+put of the rw top, D=" + d + " (" + (d - 1) + " lowers), µs", "create-chain",
                    "tiny-layers", "tiny-layers", n -> depth(n, "depths", d), false, d == 501 ? "≤ 10 ms" : ""));
        }
        metrics.add(new Metric("create-chain: get+put of a read-only layer with 500 lowers (499 + its own diff), µs", "create-chain",
                "tiny-layers", "tiny-layers", n -> depth(n, "committed_depths", 500), false, "≤ 10 ms"));
        for (int d : List.of(1, 10, 50, 100, 129, 501)) {
            metrics.add(new Metric("create-chain: get+put of the rw top, D=" + d + ", µs (VARIANT_CP)", "create-chain",
                    "tiny-layers", "tiny-layers-variant", n -> depth(n, "depths", d), false, ""));
        }
        for (String op : List.of("apply", "diff")) {
            for (String t : List.of("small-files", "large-files")) {
                metrics.add(new Metric(op + " " + t + ", MB/s", op, t, t, n -> PeerTable.num(n.path("mb_s")), true, "≥ 1.0"));
            }
        }

        System.out.println("Session " + session + " (" + results + "). Each cell: median over runs (per-run values). "
                + "Ratio: Strata/moby within each run for times (≤ 1 is Strata faster), Strata/moby for rates (≥ 1 is Strata faster).");
        System.out.println();
        System.out.println("| metric | moby-overlay2 | strata-overlay | ratio (per run) | median ratio | goal |");
        System.out.println("|---|---|---|---|---|---|");
        for (Metric m : metrics) {
            Map<Integer, Double> moby = PeerTable.byRun(lines, "moby-overlay2", m.op, m.mobyLabel, m.value);
            Map<Integer, Double> strata = PeerTable.byRun(lines, "strata-overlay", m.op, m.strataLabel, m.value);
            if (strata.isEmpty() && (moby.isEmpty() || m.strataLabel.endsWith("-variant"))) continue;
            List<Double> ratios = PeerTable.ratios(strata, moby);
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |%n", m.name, PeerTable.cell(moby), PeerTable.cell(strata),
                    ratios.isEmpty() ? "" : String.join(", ", ratios.stream().map(r -> String.format(Locale.ROOT, "%.2f", r)).toList()),
                    ratios.isEmpty() ? "n/a" : String.format(Locale.ROOT, "**%.2f**", PeerTable.median(ratios)), m.goal);
        }
    }

    private static Double depth(JsonNode n, String field, int depth) {
        for (JsonNode d : n.path(field)) {
            if (d.path("depth").asInt() == depth) {
                if (d.has("error") && !d.has("get_put")) return null;
                return PeerTable.num(d.path("get_put").path("median_us"));
            }
        }
        return null;
    }
}
