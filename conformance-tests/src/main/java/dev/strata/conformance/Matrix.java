package dev.strata.conformance;

import dev.strata.conformance.RunReport.CaseResult;
import dev.strata.conformance.RunReport.DriverReport;
import dev.strata.conformance.RunReport.Status;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The text matrix: tests down, drivers across (a driver is a short column, a test name is not), each cell
 * {@code pass}, {@code FAIL[n]} or {@code skip[n]}; note n below the table says why, once for every cell with
 * the same driver and reason. A test that did not report for a driver shows the outcome of its nearest
 * container (a test factory, or the suite when it could not start).
 */
final class Matrix {
    private static final int NOTE_LINES = 8;

    private Matrix() {
    }

    static String render(RunReport report) {
        List<String> rows = rows(report);
        Map<String, Integer> notes = new LinkedHashMap<>();
        List<String> noteText = new ArrayList<>();
        List<List<String>> cells = new ArrayList<>();
        for (String row : rows) {
            List<String> line = new ArrayList<>();
            for (DriverReport d : report.drivers()) {
                Optional<CaseResult> r = lookup(d, row);
                if (r.isEmpty()) {
                    line.add("-");
                    continue;
                }
                CaseResult c = r.get();
                if (c.status() == Status.PASS) {
                    line.add("pass");
                    continue;
                }
                String why = c.message() == null ? "(no message)" : c.message();
                String key = d.driver() + "\u0000" + c.status() + "\u0000" + why;
                Integer n = notes.get(key);
                if (n == null) {
                    n = notes.size() + 1;
                    notes.put(key, n);
                    noteText.add(note(n, d.driver(), c, why));
                }
                line.add((c.status() == Status.FAIL ? "FAIL" : "skip") + "[" + n + "]");
            }
            cells.add(line);
        }

        int first = Math.max("test".length(), rows.stream().mapToInt(String::length).max().orElse(0));
        List<Integer> widths = new ArrayList<>();
        for (int i = 0; i < report.drivers().size(); i++) {
            int w = report.drivers().get(i).driver().length();
            for (List<String> line : cells) w = Math.max(w, line.get(i).length());
            widths.add(w);
        }
        StringBuilder out = new StringBuilder();
        out.append("Strata conformance on Linux ").append(report.kernel()).append(", ").append(report.startedAt())
                .append(String.format(Locale.ROOT, " (%.1f s)%n%n", report.durationMillis() / 1000.0));
        StringBuilder header = new StringBuilder(pad("test", first));
        for (int i = 0; i < widths.size(); i++) header.append("  ").append(pad(report.drivers().get(i).driver(), widths.get(i)));
        out.append(header.toString().stripTrailing()).append('\n');
        out.append("-".repeat(header.toString().stripTrailing().length())).append('\n');
        for (int r = 0; r < rows.size(); r++) {
            StringBuilder line = new StringBuilder(pad(rows.get(r), first));
            for (int i = 0; i < widths.size(); i++) line.append("  ").append(pad(cells.get(r).get(i), widths.get(i)));
            out.append(line.toString().stripTrailing()).append('\n');
        }
        out.append('\n');
        for (DriverReport d : report.drivers()) {
            out.append(String.format(Locale.ROOT, "%s: %d passed, %d failed, %d skipped in %.1f s%s%n", d.driver(),
                    d.count(Status.PASS), d.count(Status.FAIL), d.count(Status.SKIPPED), d.durationMillis() / 1000.0,
                    d.options().isEmpty() ? "" : " (options " + String.join(" ", d.options()) + ")"));
        }
        if (!noteText.isEmpty()) {
            out.append('\n');
            noteText.forEach(n -> out.append(n).append('\n'));
        }
        return out.toString();
    }

    /**
     * Every row name, in the order first reported across drivers. A container row (a test factory) is left out
     * where some driver reported its tests. The suite row shows only when nothing else ran, or when a driver's
     * suite failed around tests that did report (an @AfterAll, say), which no other cell would show.
     */
    static List<String> rows(RunReport report) {
        LinkedHashSet<String> rows = new LinkedHashSet<>();
        for (DriverReport d : report.drivers()) for (CaseResult c : d.results()) rows.add(c.test());
        boolean suiteAroundTests = report.drivers().stream().anyMatch(d -> d.results().size() > 1
                && d.results().stream().anyMatch(c -> c.test().equals(ResultCollector.SUITE)));
        List<String> out = new ArrayList<>();
        for (String r : rows) {
            if (r.equals(ResultCollector.SUITE)) {
                if (rows.size() == 1 || suiteAroundTests) out.add(r);
            } else if (rows.stream().noneMatch(o -> o.startsWith(r + " / "))) {
                out.add(r);
            }
        }
        return out;
    }

    /** The result for a row, else the nearest container's (a "a / b" row falls back to "a", then to the suite). */
    static Optional<CaseResult> lookup(DriverReport d, String row) {
        String name = row;
        while (true) {
            String n = name;
            Optional<CaseResult> hit = d.results().stream().filter(c -> c.test().equals(n)).findFirst();
            if (hit.isPresent()) return hit;
            int cut = name.lastIndexOf(" / ");
            if (cut < 0) break;
            name = name.substring(0, cut);
        }
        return d.results().stream().filter(c -> c.test().equals(ResultCollector.SUITE)).findFirst();
    }

    private static String note(int n, String driver, CaseResult c, String why) {
        List<String> lines = why.lines().toList();
        StringBuilder b = new StringBuilder("[" + n + "] " + driver + (c.status() == Status.FAIL ? " FAILED " + c.test() : " skipped")
                + ": " + (lines.isEmpty() ? "" : lines.getFirst()));
        for (int i = 1; i < Math.min(lines.size(), NOTE_LINES); i++) b.append("\n      ").append(lines.get(i));
        if (lines.size() > NOTE_LINES) b.append("\n      ... (").append(lines.size() - NOTE_LINES).append(" more lines in --json)");
        return b.toString();
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }
}
