package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The table of a {@link BtrfsVsMoby} session: each metric's value per run for both sides, the ratio within each
 * run, and the median ratio with its min-max spread.
 *
 * <pre>scripts/bench BtrfsVsMobySummary RESULTS.jsonl SESSION</pre>
 */
public final class BtrfsVsMobySummary {
    private BtrfsVsMobySummary() {
    }

    /** A row: {@code strata} against {@code reference}, picked by op and label; {@code rate}: higher is better. */
    private record Row(String name, String reference, String strata, String op, String label, Function<JsonNode, Double> value,
                       boolean rate, String goal) {
    }

    public static void main(String[] args) throws Exception {
        print(Path.of(args[0]), args[1]);
    }

    static void print(Path results, String session) throws Exception {
        List<JsonNode> lines = PeerTable.load(results, session);
        Function<JsonNode, Double> median = n -> PeerTable.num(n.path("median_us"));
        List<Row> rows = new ArrayList<>();
        for (DataSets s : BtrfsVsMoby.SERIES) {
            rows.add(new Row("create a child of a " + String.format(Locale.ROOT, "%,d", s.files()) + "-file layer, µs",
                    BtrfsVsMoby.MOBY, BtrfsVsMoby.STRATA, "create-child", s.files() + "-files", median, false, "≤ 1.0, flat in size"));
        }
        for (DataSets s : BtrfsVsMoby.SERIES) {
            rows.add(new Row("remove a child of a " + String.format(Locale.ROOT, "%,d", s.files()) + "-file layer, µs", BtrfsVsMoby.MOBY, BtrfsVsMoby.STRATA, "create-child", s.files() + "-files",
                    n -> PeerTable.num(n.path("phases").path("remove").path("median_us")), false, ""));
        }
        for (String other : List.of("strata-vfs", "strata-overlay")) {
            rows.add(new Row("create a child of a 20,000-file layer, µs: " + other + " → strata-btrfs", other, BtrfsVsMoby.STRATA,
                    "create-child", "20000-files", median, false, ""));
        }
        for (String phase : List.of("create", "get", "put", "remove")) {
            rows.add(new Row("lifecycle " + phase + ", µs", BtrfsVsMoby.MOBY, BtrfsVsMoby.STRATA,
                    "lifecycle", "empty-base", n -> PeerTable.num(n.path("phases").path(phase).path("median_us")), false, ""));
        }
        rows.add(new Row("lifecycle create+get+put+remove, µs", BtrfsVsMoby.MOBY, BtrfsVsMoby.STRATA, "lifecycle", "empty-base", median, false, "≤ 1.0"));
        rows.add(new Row("lifecycle, CPU of the process per round, µs", BtrfsVsMoby.MOBY, BtrfsVsMoby.STRATA, "lifecycle", "empty-base",
                n -> PeerTable.num(n.path("cpu_us")), false, ""));
        for (String op : List.of("apply", "diff")) {
            for (String t : List.of("small-files", "large-files")) {
                rows.add(new Row(op + " " + t + ", MB/s", BtrfsVsMoby.MOBY, BtrfsVsMoby.STRATA, op, t, n -> PeerTable.num(n.path("mb_s")), true, "≥ 1.0"));
            }
        }

        List<String> loads = new ArrayList<>();
        for (JsonNode m : PeerTable.meta(results, session)) loads.add(m.path("when").asText() + " " + m.path("loadavg").asText());
        List<Double> perBench = new ArrayList<>();
        for (JsonNode n : lines) if (n.has("loadavg_start")) perBench.add(Double.parseDouble(n.get("loadavg_start").asText()));
        System.out.println("Session " + session + " (" + results + "), " + lines.size() + " result lines. Load average: "
                + String.join("; ", loads) + (perBench.isEmpty() ? "" : String.format(Locale.ROOT,
                "; 1-minute load before each invocation %.2f-%.2f (median %.2f)", Collections.min(perBench), Collections.max(perBench),
                PeerTable.median(perBench))) + ".");
        System.out.println("Cells: median over runs (per-run values). Ratio: Strata over the reference within each run; for times ≤ 1 is "
                + "Strata faster, for rates ≥ 1 is.");
        System.out.println();
        System.out.println("| metric | reference | Strata | ratio per run | median ratio [min-max] | goal |");
        System.out.println("|---|---|---|---|---|---|");
        for (Row r : rows) {
            Map<Integer, Double> ref = PeerTable.byRun(lines, r.reference, r.op, r.label, r.value);
            Map<Integer, Double> strata = PeerTable.byRun(lines, r.strata, r.op, r.label, r.value);
            if (ref.isEmpty() || strata.isEmpty()) continue; // a session that left one side out (FILES, ALSO, OPS)
            List<Double> ratios = PeerTable.ratios(strata, ref);
            String spread = ratios.isEmpty() ? "n/a" : "**" + PeerTable.ratio(PeerTable.median(ratios)) + "** ["
                    + PeerTable.ratio(Collections.min(ratios)) + "-" + PeerTable.ratio(Collections.max(ratios)) + "]";
            System.out.printf(Locale.ROOT, "| %s | %s: %s | %s | %s | %s | %s |%n", r.name, r.reference, PeerTable.cell(ref),
                    PeerTable.cell(strata), String.join(", ", ratios.stream().map(PeerTable::ratio).toList()), spread, r.goal);
        }
        Map<Integer, Double> jit = PeerTable.byRun(lines, BtrfsVsMoby.STRATA, "lifecycle", "empty-base", n -> PeerTable.num(n.path("jit_ms_timed")));
        Map<Integer, Double> warm = PeerTable.byRun(lines, BtrfsVsMoby.STRATA, "lifecycle", "empty-base", n -> PeerTable.num(n.path("warmup_rounds")));
        if (!jit.isEmpty()) {
            System.out.println();
            System.out.println("Lifecycle: " + PeerTable.cell(warm) + " untimed rounds on both sides first; Strata's JIT compiling during the timed"
                    + " rounds, ms: " + PeerTable.cell(jit) + ".");
        }
    }
}
