package dev.strata.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** Medians and small helpers shared by the benchmarks. */
final class Stats {
    private Stats() {
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static String fmt(double seconds) {
        return String.format(Locale.ROOT, "%.3f s", seconds);
    }

    /** Runs a command, returns its wall time in seconds; fails loudly if it fails. */
    static double time(List<String> cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IOException("failed: " + String.join(" ", cmd));
        return (System.nanoTime() - t0) / 1e9;
    }

    static void sync() throws IOException, InterruptedException {
        new ProcessBuilder("sync").start().waitFor();
    }

    static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
