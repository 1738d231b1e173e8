package dev.strata.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** peerbench's statistics, computed the same way: nearest-rank percentiles, the median of an even count is the mean of the middle two. */
final class PeerStats {
    private PeerStats() {
    }

    /** The JSON object peerbench writes for a set of durations (ns in, µs out with two decimals). */
    static Map<String, Object> of(List<Long> nanos) {
        long[] s = nanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(s);
        long total = 0;
        for (long x : s) total += x;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", s.length);
        m.put("total_s", round(total / 1e9, 6));
        if (s.length > 0) {
            m.put("median_us", us(median(s)));
            m.put("p90_us", us(pct(s, 0.90)));
            m.put("p99_us", us(pct(s, 0.99)));
            m.put("min_us", us(s[0]));
            m.put("max_us", us(s[s.length - 1]));
        }
        return m;
    }

    /** Puts a stat's fields into a result line the way peerbench's putStat does. */
    static void put(Map<String, Object> r, Map<String, Object> stat) {
        r.put("ops", stat.get("n"));
        for (String k : List.of("total_s", "median_us", "p90_us", "p99_us", "min_us", "max_us")) {
            if (stat.containsKey(k)) r.put(k, stat.get(k));
        }
    }

    /** MB/s (10^6 bytes) and files/s from the median op, as peerbench's putRate. */
    static void putRate(Map<String, Object> r, long bytes, int files, Map<String, Object> stat) {
        double med = ((Number) stat.getOrDefault("median_us", 0.0)).doubleValue();
        if (med <= 0) return;
        double sec = med / 1e6;
        if (bytes > 0) r.put("mb_s", round(bytes / 1e6 / sec, 2));
        if (files > 0) r.put("files_s", round(files / sec, 2));
    }

    static double median(long[] sorted) {
        int n = sorted.length;
        if (n == 0) return 0;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }

    static long pct(long[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static double us(double nanos) {
        return Math.round(nanos / 10) / 100.0;
    }

    static double round(double v, int places) {
        double f = Math.pow(10, places);
        return Math.round(v * f) / f;
    }
}
