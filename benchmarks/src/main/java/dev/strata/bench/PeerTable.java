package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/** Reading a session's peerbench JSON lines back, run by run, for the tables of the *VsMoby benchmarks. */
final class PeerTable {
    private PeerTable() {
    }

    /** The session's result lines (its meta lines left out). */
    static List<JsonNode> load(Path results, String session) throws IOException {
        return lines(results, session, false);
    }

    /** The session's meta lines. */
    static List<JsonNode> meta(Path results, String session) throws IOException {
        return lines(results, session, true);
    }

    private static List<JsonNode> lines(Path results, String session, boolean meta) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(results)) {
            if (l.isBlank()) continue;
            JsonNode n = json.readTree(l);
            if (session.equals(n.path("session").asText()) && n.path("op").asText().equals("meta") == meta) lines.add(n);
        }
        return lines;
    }

    /** Run number to value, for one impl's lines of one op and label. */
    static Map<Integer, Double> byRun(List<JsonNode> lines, String impl, String op, String label, Function<JsonNode, Double> value) {
        Map<Integer, Double> out = new TreeMap<>();
        for (JsonNode n : lines) {
            if (!impl.equals(n.path("impl").asText()) || !op.equals(n.path("op").asText()) || !label.equals(n.path("label").asText())) continue;
            Double v = value.apply(n);
            if (v != null) out.put(n.path("run").asInt(), v);
        }
        return out;
    }

    /** {@code a/b} for each run both have. */
    static List<Double> ratios(Map<Integer, Double> a, Map<Integer, Double> b) {
        List<Double> out = new ArrayList<>();
        for (Integer run : a.keySet()) {
            Double x = a.get(run), y = b.get(run);
            if (x != null && y != null && y > 0) out.add(x / y);
        }
        return out;
    }

    static Double num(JsonNode n) {
        return n.isNumber() ? n.asDouble() : null;
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** "**median** (run 1, run 2, ...)". */
    static String cell(Map<Integer, Double> v) {
        if (v.isEmpty()) return "";
        List<Double> xs = new ArrayList<>(v.values());
        String each = String.join(", ", xs.stream().map(PeerTable::fmt).toList());
        return "**" + fmt(median(xs)) + "** (" + each + ")";
    }

    static String fmt(double x) {
        return x >= 100 ? String.format(Locale.ROOT, "%.0f", x) : String.format(Locale.ROOT, "%.1f", x);
    }

    static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2f", r);
    }
}
