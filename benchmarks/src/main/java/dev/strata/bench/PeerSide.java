package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A side that is one process per block, speaking peerbench's command line and JSON line (a Go peer, or Strata's
 * {@link PeerBench}): run on a fresh root of the session, its line read back into metric values.
 */
record PeerSide(String name, PeerSession session, List<String> command, String op, String label, List<String> args,
                Function<JsonNode, Map<String, Double>> values) implements Comparison.Side {

    @Override
    public Map<String, Double> measure(int run) throws Exception {
        JsonNode r = session.bench(command, run, name, op, label, args.toArray(String[]::new));
        if (r == null) throw new IOException(name + " " + op + " wrote no result (see " + session.work.resolve("bench.log") + ")");
        if (r.has("error")) throw new IOException(name + " " + op + ": " + r.get("error").asText());
        return values.apply(r);
    }

    /**
     * lifecycle: each phase's median and the whole round's, µs; the process's CPU per round ("cpu", µs) and what
     * Strata's JIT compiled during the timed rounds ("jit", ms).
     */
    static Map<String, Double> lifecycle(JsonNode r) {
        Map<String, Double> v = new LinkedHashMap<>();
        for (String phase : List.of("create", "get", "put", "remove")) put(v, phase, r.path("phases").path(phase).path("median_us"));
        put(v, "round", r.path("median_us"));
        put(v, "cpu", r.path("cpu_us"));
        put(v, "jit", r.path("jit_ms_timed"));
        return v;
    }

    /**
     * create-chain: get+put of the top at each depth ("D=n"), of committed layers ("committed D=n"), create+apply per
     * layer, µs; the process's CPU per get+put at each depth ("cpu D=n", µs), and what Strata's JIT compiled during
     * the timed reps of the depths its warm-up covers ("jit", ms).
     */
    static Map<String, Double> chain(JsonNode r) {
        Map<String, Double> v = new LinkedHashMap<>();
        double jit = 0;
        boolean hasJit = false;
        int warmed = 0;
        for (JsonNode w : r.path("warmup_depths")) warmed = Math.max(warmed, w.asInt());
        for (JsonNode d : r.path("depths")) {
            if (d.has("error")) continue;
            put(v, "D=" + d.path("depth").asInt(), d.path("get_put").path("median_us"));
            put(v, "cpu D=" + d.path("depth").asInt(), d.path("cpu_us"));
            if (d.path("depth").asInt() <= warmed && d.path("jit_ms_timed").isNumber()) {
                jit += d.path("jit_ms_timed").asDouble();
                hasJit = true;
            }
        }
        if (hasJit) v.put("jit", jit);
        for (JsonNode d : r.path("committed_depths")) {
            if (!d.has("error")) put(v, "committed D=" + d.path("depth").asInt(), d.path("get_put").path("median_us"));
        }
        put(v, "create+apply", r.path("chain_create_apply").path("median_us"));
        return v;
    }

    /** apply, diff: MB/s of the median rep. */
    static Map<String, Double> rate(JsonNode r) {
        Map<String, Double> v = new LinkedHashMap<>();
        put(v, "MB/s", r.path("mb_s"));
        return v;
    }

    private static void put(Map<String, Double> v, String key, JsonNode n) {
        if (n.isNumber()) v.put(key, n.asDouble());
    }
}
