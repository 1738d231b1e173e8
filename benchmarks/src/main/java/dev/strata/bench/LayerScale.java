package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.LayerBusyException;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.PosixFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * Whether a per-layer operation costs the same with 10 layers as with 10,000: one home per size (a base and its
 * children, all made first), then, run after run, the same operations on each home, the homes' order alternating
 * (small to large, then large to small). Per run and size the median of each operation; reported per size as the
 * median over runs with the min–max, as the ratio of the largest home to the smallest and as the difference in µs
 * (median and min–max of the per-run ratios and differences). Flat means a ratio near 1.
 *
 * <p>Operations: {@code exists} of a random layer; {@code create} of a new child of the base, {@code get} and
 * {@code put} of it, {@code remove} of it (its children check included); {@code refused-remove} of a layer that has
 * one child (the children check alone, and the error).
 *
 * <p>Floors, what a driver pays the kernel for the same question, timed in the same reps, each of another random
 * layer, in the directory where the driver keeps one entry per layer ({@code <home>} for overlay, {@code <home>/dir}
 * for vfs, {@code <home>/subvolumes} for btrfs: found as the one holding the base's directory): {@code statx <id>},
 * one bare statx of {@code <layers>/<id>} (all moby overlay2's {@code Exists} does: {@code os.Stat(home/id)});
 * {@code statx <id>/diff}, where layers have a {@code diff} directory (overlay), the same of
 * {@code <layers>/<id>/diff}, the lookup behind the overlay driver's own test (the other statx of its {@code exists},
 * of an absent crash mark, is the same name whatever the layer count); {@code statx base}, one entry that stays hot
 * in a directory that grows. A random one of 10,000 dentries and inodes is not in the CPU's caches, one of 10 is:
 * the kernel's lookup of a random entry grows with the layer count on any driver (on the tmpfs of this bench, in
 * {@code __d_lookup_rcu} and the inode's getattr), the hot entry's does not. {@code exists} is flat where its growth in µs is its floor's.
 *
 * <pre>scripts/bench LayerScale DRIVER [SIZES] [RUNS] [REPS]   (defaults: 10,100,1000,10000  5  100; env WORK: a
 * directory for the scratch tmpfs, default /tmp)</pre>
 */
public final class LayerScale {
    private static final List<String> LIFECYCLE = List.of("create", "get", "put", "remove", "refused-remove");

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LayerScale DRIVER [SIZES] [RUNS] [REPS]");
            System.exit(2);
        }
        String driver = args[0];
        int[] sizes = Arrays.stream((args.length > 1 ? args[1] : "10,100,1000,10000").split(",")).mapToInt(Integer::parseInt).toArray();
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        if (runs < 5) throw new IllegalArgumentException("RUNS must be at least 5 (a median and min–max), not " + runs);
        if (!Kernel.isRoot()) throw new IllegalStateException("needs root (a scratch tmpfs, and mounts for overlay)");
        run(driver, sizes, runs, reps, Path.of(System.getenv().getOrDefault("WORK", "/tmp")));
    }

    /** Runs the benchmark on a scratch tmpfs in {@code parent} and prints its table; leaves nothing behind. */
    static void run(String driver, int[] sizes, int runs, int reps, Path parent) throws Exception {
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        DriverRegistry registry = DriverRegistry.load();
        List<StorageDriver> homes = new ArrayList<>();
        List<Path> layerDirs = new ArrayList<>();
        try (BenchMount work = BenchMount.tmpfs(parent, "6g")) {
            try {
                for (int n : sizes) {
                    long t0 = System.nanoTime();
                    StorageDriver d = registry.open(registry.require(driver), work.mount.resolve("n" + n), List.of());
                    homes.add(d);
                    d.create("base", null, CreateOptions.NONE);
                    d.create("p", "base", CreateOptions.NONE);
                    d.create("pc", "p", CreateOptions.NONE);
                    for (int i = 3; i < n; i++) d.create(String.format("l-%05d", i), "base", CreateOptions.NONE);
                    layerDirs.add(layersDir(d.home()));
                    System.err.printf(Locale.ROOT, "home with %d layers made in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
                }
                // [run][size][op] medians in ns
                boolean withDiff = Files.isDirectory(layerDirs.getFirst().resolve("base").resolve("diff"));
                List<String> ops = new ArrayList<>(lookupNames(withDiff));
                ops.addAll(LIFECYCLE);
                double[][][] med = new double[runs][sizes.length][ops.size()];
                SplittableRandom random = new SplittableRandom(42);
                for (int s = 0; s < sizes.length; s++) {
                    measure(homes.get(s), layerDirs.get(s), sizes[s], reps, random, -1, withDiff); // JIT warm-up, untimed
                }
                for (int run = 0; run < runs; run++) {
                    for (int k = 0; k < sizes.length; k++) {
                        int s = run % 2 == 0 ? k : sizes.length - 1 - k;
                        med[run][s] = measure(homes.get(s), layerDirs.get(s), sizes[s], reps, random, run, withDiff);
                    }
                    System.err.println("run " + (run + 1) + "/" + runs + " done");
                }
                String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
                report(driver, ops, sizes, runs, reps, med, load0, load1);
            } finally {
                for (StorageDriver d : homes) d.cleanup();
            }
        }
    }

    /** exists and its floors, in the order {@link #measure} times them: {@code statx base}, the hot one, last. */
    private static List<String> lookupNames(boolean withDiff) {
        return withDiff ? List.of("exists", "statx <id>", "statx <id>/diff", "statx base") : List.of("exists", "statx <id>", "statx base");
    }

    /** The directory of {@code home} that holds one entry per layer: home itself, or the subdirectory with the base's. */
    static Path layersDir(Path home) throws IOException {
        if (Files.isDirectory(home.resolve("base"))) return home;
        try (var dirs = Files.list(home)) {
            return dirs.sorted().filter(dir -> Files.isDirectory(dir.resolve("base"))).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no directory of " + home + " holds the base layer's"));
        }
    }

    /** Per op, the median ns of {@code reps} reps: exists and its floors (with {@code statx <id>/diff} when {@code withDiff}), then {@link #LIFECYCLE}. */
    private static double[] measure(StorageDriver d, Path layerDir, int n, int reps, SplittableRandom random, int run, boolean withDiff) {
        String layers = layerDir.toString();
        List<String> lookupNames = lookupNames(withDiff);
        int hot = lookupNames.size() - 1, first = lookupNames.size();
        long[][] t = new long[first + LIFECYCLE.size()][reps];
        for (int i = 0; i < reps; i++) {
            String some = n > 3 ? String.format("l-%05d", 3 + random.nextInt(n - 3)) : "base";
            String other = layers + "/" + (n > 3 ? String.format("l-%05d", 3 + random.nextInt(n - 3)) : "base");
            String diff = layers + "/" + (n > 3 ? String.format("l-%05d", 3 + random.nextInt(n - 3)) : "base") + "/diff";
            String base = layers + "/base";
            String x = "x-" + (run < 0 ? "w" : run) + "-" + i;
            // exists and its floors take turns at going first: the first lookup after the last rep's remove finds
            // the CPU's caches cold, and none should always be that one; the hot base comes last
            List<BooleanSupplier> lookups = new ArrayList<>(List.of(() -> d.exists(some), () -> PosixFiles.lexists(other)));
            if (withDiff) lookups.add(() -> PosixFiles.lexists(diff));
            lookups.add(() -> PosixFiles.lexists(base));
            for (int k = 0; k < lookups.size(); k++) {
                int o = k == hot ? hot : (k + i) % hot;
                long s0 = System.nanoTime();
                if (!lookups.get(o).getAsBoolean()) throw new IllegalStateException(lookupNames.get(o) + ": missing");
                t[o][i] = System.nanoTime() - s0;
            }
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
            t[first][i] = c - b;
            t[first + 1][i] = e - c;
            t[first + 2][i] = f - e;
            t[first + 3][i] = g - f;
            t[first + 4][i] = h - g;
        }
        double[] out = new double[t.length];
        for (int o = 0; o < t.length; o++) out[o] = median(t[o]);
        return out;
    }

    private static void report(String driver, List<String> ops, int[] sizes, int runs, int reps, double[][][] med, String load0, String load1) {
        System.out.printf(Locale.ROOT, "LayerScale %s: %d runs x %d reps per size, sizes in alternating order; load %s -> %s%n",
                driver, runs, reps, load0, load1);
        int last = sizes.length - 1;
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-15s", "op (µs)"));
        for (int n : sizes) h.append(String.format(Locale.ROOT, "%22s", n + " layers"));
        h.append(String.format(Locale.ROOT, "%26s", sizes[last] + "/" + sizes[0] + " ratio"));
        h.append(String.format(Locale.ROOT, "%26s", sizes[last] + "-" + sizes[0] + " (µs)"));
        System.out.println(h);
        for (int o = 0; o < ops.size(); o++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-15s", ops.get(o)));
            for (int s = 0; s < sizes.length; s++) {
                double[] v = new double[runs];
                for (int r = 0; r < runs; r++) v[r] = med[r][s][o] / 1e3;
                line.append(String.format(Locale.ROOT, "%22s", fmt(median(v)) + " (" + fmt(min(v)) + "-" + fmt(max(v)) + ")"));
            }
            double[] smallest = new double[runs], largest = new double[runs];
            for (int r = 0; r < runs; r++) {
                smallest[r] = med[r][0][o];
                largest[r] = med[r][last][o];
            }
            for (String cell : growth(smallest, largest)) line.append(String.format(Locale.ROOT, "%26s", cell));
            System.out.println(line);
        }
    }

    /**
     * The ratio largest/smallest and the difference largest-smallest in µs, each per run (the two homes of a run
     * shared its moment of the machine), as median (min-max) over the runs. Given per-run medians in ns.
     */
    static List<String> growth(double[] smallest, double[] largest) {
        double[] ratio = new double[smallest.length], diff = new double[smallest.length];
        for (int r = 0; r < smallest.length; r++) {
            ratio[r] = largest[r] / smallest[r];
            diff[r] = (largest[r] - smallest[r]) / 1e3;
        }
        return List.of(String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", median(ratio), min(ratio), max(ratio)),
                String.format(Locale.ROOT, "%+.1f (%+.1f..%+.1f)", median(diff), min(diff), max(diff)));
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
