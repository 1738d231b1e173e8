package dev.strata.e2e.containerd.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Medians and spreads of timings and of per-round ratios. */
record Stats(double median, double min, double max) {

    static Stats of(List<Double> values) {
        if (values.isEmpty()) throw new IllegalArgumentException("no values");
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int n = v.size();
        double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
        return new Stats(median, v.getFirst(), v.getLast());
    }

    String ratio() {
        return String.format("%.3f (min %.3f, max %.3f)", median, min, max);
    }
}
