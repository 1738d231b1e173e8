package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.LayerBusyException;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.Mounts;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Whether a per-layer operation costs the same with 10 layers as with 10,000: one home per size (a base and its
 * children, all made first), then, run after run, the same operations on each home, the homes' order alternating
 * (small to large, then large to small). Per run and size the median of each operation; reported per size as the
 * median over runs with the min–max, and as the ratio of the largest home to the smallest (median and min–max of
 * the per-run ratios). Flat means a ratio near 1.
 *
 * <p>Operations: {@code exists} of a random layer; {@code create} of a new child of the base, {@code get} and
 * {@code put} of it, {@code remove} of it (its children check included); {@code refused-remove} of a layer that has
 * one child (the children check alone, and the error).
 *
 * <pre>scripts/bench LayerScale DRIVER [SIZES] [RUNS] [REPS]   (defaults: 10,100,1000,10000  5  100; env WORK: a
 * directory for the scratch tmpfs, default /tmp)</pre>
 */
public final class LayerScale {
    private static final List<String> OPS = List.of("exists", "create", "get", "put", "remove", "refused-remove");

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LayerScale DRIVER [SIZES] [RUNS] [REPS]");
            System.exit(2);
        }
        String driver = args[0];
        int[] sizes = Arrays.stream((args.length > 1 ? args[1] : "10,100,1000,10000").split(",")).mapToInt(Integer::parseInt).toArray();
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        if (!Kernel.isRoot()) throw new IllegalStateException("needs root (a scratch tmpfs, and mounts for overlay)");
        Path work = Files.createTempDirectory(Path.of(System.getenv().getOrDefault("WORK", "/tmp")), "strata-layerscale-");
        Mounts.mount("strata-layerscale", work, "tmpfs", 0, "size=6g,mode=0755");
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        DriverRegistry registry = DriverRegistry.load();
        List<StorageDriver> homes = new ArrayList<>();
        try {
            for (int n : sizes) {
                long t0 = System.nanoTime();
                StorageDriver d = registry.open(registry.require(driver), work.resolve("n" + n), List.of());
                d.create("base", null, CreateOptions.NONE);
                d.create("p", "base", CreateOptions.NONE);
                d.create("pc", "p", CreateOptions.NONE);
                for (int i = 3; i < n; i++) d.create(String.format("l-%05d", i), "base", CreateOptions.NONE);
                homes.add(d);
                System.err.printf(Locale.ROOT, "home with %d layers made in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
            }
            // [run][size][op] medians in ns
            double[][][] med = new double[runs][sizes.length][OPS.size()];
            SplittableRandom random = new SplittableRandom(42);
            for (int s = 0; s < sizes.length; s++) measure(homes.get(s), sizes[s], reps, random, -1); // JIT warm-up, untimed
            for (int run = 0; run < runs; run++) {
                for (int k = 0; k < sizes.length; k++) {
                    int s = run % 2 == 0 ? k : sizes.length - 1 - k;
                    med[run][s] = measure(homes.get(s), sizes[s], reps, random, run);
                }
                System.err.println("run " + (run + 1) + "/" + runs + " done");
            }
            String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
            report(driver, sizes, runs, reps, med, load0, load1);
        } finally {
            for (StorageDriver d : homes) d.cleanup();
            Mounts.unmountAllUnder(work);
            Files.deleteIfExists(work);
        }
    }

    private static double[] measure(StorageDriver d, int n, int reps, SplittableRandom random, int run) {
        long[][] t = new long[OPS.size()][reps];
        for (int i = 0; i < reps; i++) {
            String some = n > 3 ? String.format("l-%05d", 3 + random.nextInt(n - 3)) : "base";
            String x = "x-" + (run < 0 ? "w" : run) + "-" + i;
            long a = System.nanoTime();
            if (!d.exists(some)) throw new IllegalStateException(some + " is missing");
            long b = System.nanoTime();
            d.create(x, "base", CreateOptions.NONE);
            long c = System.nanoTime();
            d.get(x, "");
            long e = System.nanoTime();
            d.put(x);
            long f = System.nanoTime();
            d.remove(x);
            long g = System.nanoTime();
            try {
                d.remove("p");
                throw new IllegalStateException("a layer with a child was removed");
            } catch (LayerBusyException expected) {
                // the point
            }
            long h = System.nanoTime();
            t[0][i] = b - a;
            t[1][i] = c - b;
            t[2][i] = e - c;
            t[3][i] = f - e;
            t[4][i] = g - f;
            t[5][i] = h - g;
        }
        double[] out = new double[OPS.size()];
        for (int o = 0; o < OPS.size(); o++) out[o] = median(t[o]);
        return out;
    }

    private static void report(String driver, int[] sizes, int runs, int reps, double[][][] med, String load0, String load1) {
        System.out.printf(Locale.ROOT, "LayerScale %s: %d runs x %d reps per size, sizes in alternating order; load %s -> %s%n",
                driver, runs, reps, load0, load1);
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-15s", "op (µs)"));
        for (int n : sizes) h.append(String.format(Locale.ROOT, "%22s", n + " layers"));
        h.append(String.format(Locale.ROOT, "%26s", sizes[sizes.length - 1] + "/" + sizes[0] + " ratio"));
        System.out.println(h);
        for (int o = 0; o < OPS.size(); o++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-15s", OPS.get(o)));
            for (int s = 0; s < sizes.length; s++) {
                double[] v = new double[runs];
                for (int r = 0; r < runs; r++) v[r] = med[r][s][o] / 1e3;
                line.append(String.format(Locale.ROOT, "%22s", fmt(median(v)) + " (" + fmt(min(v)) + "-" + fmt(max(v)) + ")"));
            }
            double[] ratio = new double[runs];
            for (int r = 0; r < runs; r++) ratio[r] = med[r][sizes.length - 1][o] / med[r][0][o];
            line.append(String.format(Locale.ROOT, "%26s", String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", median(ratio), min(ratio), max(ratio))));
            System.out.println(line);
        }
    }

    private static String fmt(double us) {
        return us >= 100 ? String.format(Locale.ROOT, "%.0f", us) : String.format(Locale.ROOT, "%.1f", us);
    }

    static double median(long[] a) {
        long[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static double min(double[] a) {
        return Arrays.stream(a).min().orElse(Double.NaN);
    }

    private static double max(double[] a) {
        return Arrays.stream(a).max().orElse(Double.NaN);
    }
}
