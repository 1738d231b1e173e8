package dev.strata.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rules every comparison in this module follows (benchmarks/README.md, "Fair comparisons"), kept in one place:
 * <ul>
 *   <li>the sides of a case run in alternating order, run by run and case by case (A B, B A, A B ...; with three
 *   sides A B C, C B A ...), so that no side always goes first or always runs on a machine the other warmed;</li>
 *   <li>every block (one side, one run) starts the same way: the case's {@link Case#prepare} (say, reading the
 *   input into the page cache and sync(2)), and each side's own untimed warm-up, which its caller makes the same
 *   work on every side;</li>
 *   <li>at least {@link #MIN_RUNS} runs; a ratio is only ever taken between two blocks of the same run, and is
 *   reported as the median and the min–max of the per-run ratios, with every per-run value;</li>
 *   <li>the load average at the start and the end of every block, and of the session.</li>
 * </ul>
 * The first side of a case is the subject (Strata); every other side is a reference it is compared with.
 */
final class Comparison {
    static final int MIN_RUNS = 5;

    /** One side of a case: what one block of it measures, as metric key to value (a missing key: no value). */
    interface Side {
        String name();

        Map<String, Double> measure(int run) throws Exception;
    }

    /**
     * What a row compares: a key of the sides' values, how to read it, and its goal (null: none). Per run the
     * subject's value is divided by the reference's, or, for {@code difference}, the reference's is subtracted (what
     * the subject adds to the reference: a protocol's cost over the same call in-process).
     */
    record Metric(String key, String label, boolean higherIsBetter, boolean difference, Goal goal) {
        static Metric time(String key, String label, Goal goal) {
            return new Metric(key, label, false, false, goal);
        }

        static Metric rate(String key, String label, Goal goal) {
            return new Metric(key, label, true, false, goal);
        }

        static Metric added(String key, String label, Goal goal) {
            return new Metric(key, label, false, true, goal);
        }
    }

    /**
     * A goal: for a ratio, its median within {@code median} and every run's within {@code worst} (≤ for times, ≥ for
     * rates); with {@code onValue}, the same limits on the subject's own value (a depth no reference reaches).
     */
    record Goal(double median, double worst, boolean onValue) {
        static Goal ratio(double median, double worst) {
            return new Goal(median, worst, false);
        }

        static Goal value(double limit) {
            return new Goal(limit, Double.NaN, true);
        }

        String describe(boolean higherIsBetter) {
            String op = higherIsBetter ? "≥ " : "≤ ";
            return (onValue ? "value " : "") + op + num(median) + (Double.isNaN(worst) ? "" : ", each run " + op + num(worst));
        }

        boolean met(boolean higherIsBetter, List<Double> xs) {
            if (xs.isEmpty()) return false;
            double m = Comparison.median(xs), w = higherIsBetter ? Comparison.min(xs) : Comparison.max(xs);
            boolean okMedian = higherIsBetter ? m >= median : m <= median;
            boolean okWorst = Double.isNaN(worst) || (higherIsBetter ? w >= worst : w <= worst);
            return okMedian && okWorst;
        }
    }

    /** A case: its sides (the subject first), its metrics, and what runs before every block of it. */
    record Case(String name, List<Side> sides, List<Metric> metrics, Prepare prepare) {
    }

    @FunctionalInterface
    interface Prepare {
        void before(Side side) throws Exception;

        Prepare NOTHING = side -> { };
    }

    /** One block: a side's values in one run, with the 1-minute load average at its start and end. */
    record Block(String caseName, String side, int run, int position, Map<String, Double> values, String error,
                 double loadStart, double loadEnd) {
    }

    private final String title;
    private final int runs;
    private final Path rawOut;
    private final List<Case> cases = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();
    private String loadStart = "", loadEnd = "";

    /**
     * @param rawOut where every block is appended as a JSON line (null: nowhere)
     */
    Comparison(String title, int runs, Path rawOut) {
        if (runs < MIN_RUNS) {
            throw new IllegalArgumentException("a comparison needs at least " + MIN_RUNS + " runs (asked for " + runs
                    + "): fewer give no spread worth reporting");
        }
        this.title = title;
        this.runs = runs;
        this.rawOut = rawOut;
    }

    Comparison add(Case c) {
        if (c.sides().size() < 2) throw new IllegalArgumentException(c.name() + ": a comparison needs a subject and a reference");
        cases.add(c);
        return this;
    }

    /** Runs every case {@link #runs} times, sides alternating; a block that throws is recorded with its error. */
    Comparison run() throws Exception {
        loadStart = loadAverage();
        System.err.println(title + ": " + runs + " runs, load " + loadStart);
        for (int run = 1; run <= runs; run++) {
            for (int k = 0; k < cases.size(); k++) {
                Case c = cases.get(k);
                List<Side> order = new ArrayList<>(c.sides());
                if ((run + k) % 2 == 0) order = order.reversed();
                for (int pos = 0; pos < order.size(); pos++) block(c, order.get(pos), run, pos);
            }
        }
        loadEnd = loadAverage();
        return this;
    }

    private void block(Case c, Side s, int run, int pos) throws Exception {
        Map<String, Double> values = Map.of();
        String error = null;
        c.prepare().before(s);
        double l0 = load1();
        try {
            values = s.measure(run);
        } catch (Exception e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        double l1 = load1();
        Block b = new Block(c.name(), s.name(), run, pos, values, error, l0, l1);
        blocks.add(b);
        System.err.printf(Locale.ROOT, "run %d/%d %-28s %-26s load %.2f -> %.2f %s%n", run, runs, c.name(), s.name(), l0, l1,
                error != null ? "ERROR " + error : values.size() + " values");
        if (rawOut != null) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("comparison", title);
            line.put("case", c.name());
            line.put("side", s.name());
            line.put("run", run);
            line.put("position", pos);
            line.put("load_start", l0);
            line.put("load_end", l1);
            line.put("values", values);
            if (error != null) line.put("error", error);
            Files.writeString(rawOut, Json.write(line) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    List<Block> blocks() {
        return blocks;
    }

    /**
     * Per run, the subject's value over the reference's, or minus it for a difference (both from the same run; runs
     * where either is missing are left out).
     */
    List<Double> ratios(Case c, Side reference, Metric m) {
        List<Double> out = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            Double a = value(c, c.sides().getFirst(), m, run), b = value(c, reference, m, run);
            if (a == null || b == null) continue;
            if (m.difference()) out.add(a - b);
            else if (b > 0) out.add(a / b);
        }
        return out;
    }

    private List<Double> values(Case c, Side s, Metric m) {
        List<Double> out = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            Double v = value(c, s, m, run);
            if (v != null) out.add(v);
        }
        return out;
    }

    private Double value(Case c, Side s, Metric m, int run) {
        for (Block b : blocks) {
            if (b.run() == run && b.caseName().equals(c.name()) && b.side().equals(s.name())) return b.values().get(m.key());
        }
        return null;
    }

    /**
     * The table: per case, metric and reference, both sides' medians over runs (min–max), the median of the per-run
     * ratios subject/reference with their min–max and every per-run value, and the goal. A metric only the subject
     * has (a depth the reference cannot reach) gets the subject's values and no ratio.
     */
    void print() {
        System.out.print(table());
    }

    /** The table, as {@link #print} prints it (Markdown). */
    String table() {
        StringBuilder out = new StringBuilder();
        out.append("\n");
        out.append("## ").append(title).append("\n");
        out.append("\n");
        out.append(String.format(Locale.ROOT, "%d runs, sides alternating (A B, B A, ...); load average %s at the start, %s at the end; "
                + "per block %s at the start.%n", runs, loadStart, loadEnd, loadRange()));
        out.append("Values: median over runs (min–max). Ratio: subject / reference within each run, median (min–max), "
                + "then each run's; for times ≤ 1 means the subject is faster, for rates ≥ 1. A signed ratio is a difference "
                + "(subject − reference, in the metric's unit).\n");
        out.append("\n");
        out.append("| case | metric | subject | reference | subject value | reference value | ratio | per-run ratios | goal |\n");
        out.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Case c : cases) {
            Side subject = c.sides().getFirst();
            for (Metric m : c.metrics()) {
                for (Side ref : c.sides().subList(1, c.sides().size())) {
                    List<Double> sv = values(c, subject, m), rv = values(c, ref, m);
                    if (sv.isEmpty() && rv.isEmpty()) continue;
                    List<Double> ratios = ratios(c, ref, m);
                    out.append(String.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", c.name(), m.label(), subject.name(), ref.name(),
                            spread(sv), rv.isEmpty() ? "—" : spread(rv), ratios.isEmpty() ? "—" : ratioCell(m, ratios),
                            String.join(" ", ratios.stream().map(r -> m.difference() ? signed(r) : ratio(r)).toList()),
                            goalCell(m, sv, ratios)));
                }
            }
        }
        List<Block> failed = blocks.stream().filter(b -> b.error() != null).toList();
        for (Block b : failed) out.append("\nerror: run ").append(b.run()).append(" ").append(b.caseName()).append(" ").append(b.side()).append(": ").append(b.error()).append("\n");
        return out.toString();
    }

    /** The table's rows as values, for a JSON report: one map per case, metric and reference. */
    List<Map<String, Object>> summary() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Case c : cases) {
            Side subject = c.sides().getFirst();
            for (Metric m : c.metrics()) {
                for (Side ref : c.sides().subList(1, c.sides().size())) {
                    List<Double> sv = values(c, subject, m), rv = values(c, ref, m), ratios = ratios(c, ref, m);
                    if (sv.isEmpty() && rv.isEmpty()) continue;
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("case", c.name());
                    row.put("metric", m.label());
                    row.put("subject", subject.name());
                    row.put("reference", ref.name());
                    row.put("subject_values", sv);
                    row.put("reference_values", rv);
                    row.put(m.difference() ? "differences" : "ratios", ratios);
                    if (!ratios.isEmpty()) {
                        row.put("median", median(ratios));
                        row.put("min", min(ratios));
                        row.put("max", max(ratios));
                    }
                    if (m.goal() != null) {
                        List<Double> judged = m.goal().onValue() ? sv : ratios;
                        row.put("goal", m.goal().describe(m.higherIsBetter()));
                        row.put("goal_met", !judged.isEmpty() && m.goal().met(m.higherIsBetter(), judged));
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    String loadAtStart() {
        return loadStart;
    }

    String loadAtEnd() {
        return loadEnd;
    }

    private String loadRange() {
        double lo = Double.MAX_VALUE, hi = 0;
        for (Block b : blocks) {
            lo = Math.min(lo, b.loadStart());
            hi = Math.max(hi, b.loadStart());
        }
        return blocks.isEmpty() ? "-" : String.format(Locale.ROOT, "%.2f–%.2f", lo, hi);
    }

    private static String goalCell(Metric m, List<Double> subjectValues, List<Double> ratios) {
        if (m.goal() == null) return "";
        List<Double> judged = m.goal().onValue() ? subjectValues : ratios;
        if (judged.isEmpty()) return m.goal().describe(m.higherIsBetter()) + ": no value";
        return m.goal().describe(m.higherIsBetter()) + ": " + (m.goal().met(m.higherIsBetter(), judged) ? "met" : "**missed**");
    }

    static String spread(List<Double> xs) {
        return num(median(xs)) + " (" + num(min(xs)) + "–" + num(max(xs)) + ")";
    }

    static String ratioCell(Metric m, List<Double> xs) {
        if (m.difference()) return "**" + signed(median(xs)) + "** (" + signed(min(xs)) + " to " + signed(max(xs)) + ")";
        return "**" + ratio(median(xs)) + "** (" + ratio(min(xs)) + "–" + ratio(max(xs)) + ")";
    }

    static String signed(double x) {
        return (x >= 0 ? "+" : "−") + num(Math.abs(x));
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2f", r);
    }

    static String num(double x) {
        if (x >= 100) return String.format(Locale.ROOT, "%.0f", x);
        if (x >= 10) return String.format(Locale.ROOT, "%.1f", x);
        return String.format(Locale.ROOT, "%.2f", x);
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        if (n == 0) return Double.NaN;
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static double min(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static double max(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** The median of a block's timed repetitions (ns in, the unit of the metric out: µs). */
    static double medianMicros(List<Long> nanos) {
        return median(nanos.stream().map(n -> n / 1e3).toList());
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static double load1() {
        try {
            return Double.parseDouble(loadAverage().split(" ")[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** Reads files fully, so that each starts the block in the page cache; then sync(2). The usual {@link Prepare}. */
    static Prepare warmFiles(Path... files) {
        return side -> {
            byte[] buf = new byte[1 << 20];
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    while (in.read(buf) > 0) {
                        // into the page cache
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            PeerBench.sync();
        };
    }
}
