package dev.strata.bench;

import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import dev.strata.conformance.KillTrial;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Many kill -9 trials ({@link KillTrial}, the conformance suite's): per operation (apply, create, remove), TRIALS
 * child JVMs killed at random moments of it, half of them on a layer with content of its own. Reports, per
 * operation, how many left the whole before-state and how many the whole after-state, and every trial that left
 * anything else (there must be none). Nothing may stay mounted.
 *
 * <pre>scripts/bench KillTrials DRIVER [TRIALS] [SEED] [KEY=VALUE...]   (defaults: 100 trials, a random seed)</pre>
 */
public final class KillTrials {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: KillTrials DRIVER [TRIALS] [SEED] [KEY=VALUE...]");
            System.exit(2);
        }
        String driver = args[0];
        int trials = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : System.nanoTime();
        List<String> options = args.length > 3 ? Arrays.asList(args).subList(3, args.length) : List.of();
        if (!Kernel.isRoot()) throw new IllegalStateException("needs root (a scratch tmpfs, and mounts)");
        // Unmounted and deleted on the way out, and when a signal stops the run, with any trial's mount on it.
        BenchMount work = BenchMount.tmpfs(Path.of(System.getenv().getOrDefault("WORK", "/tmp")), "2g");
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        DriverRegistry registry = DriverRegistry.load();
        Path root = work.mount.resolve("root");
        List<StorageDriver> opened = new ArrayList<>();
        KillTrial trial = new KillTrial(driver, options, root, () -> {
            StorageDriver d = registry.open(registry.require(driver), root, options);
            opened.add(d);
            return d;
        });
        SplittableRandom random = new SplittableRandom(seed);
        Map<KillTrial.Op, int[]> counts = new EnumMap<>(KillTrial.Op.class);
        Map<KillTrial.Op, List<Double>> opMs = new EnumMap<>(KillTrial.Op.class);
        List<String> failures = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            for (KillTrial.Op op : KillTrial.Op.values()) {
                int[] c = counts.computeIfAbsent(op, k -> new int[3]);
                List<Double> ms = opMs.computeIfAbsent(op, k -> new ArrayList<>());
                for (int i = 0; i < trials; i++) {
                    try {
                        KillTrial.Outcome o = trial.run(op, i % 2 == 1, random);
                        c[o.state().equals("before") ? 0 : 1]++;
                        ms.add(o.opNanos() / 1e6);
                    } catch (AssertionError e) {
                        c[2]++;
                        failures.add(op + " trial " + (i + 1) + ": " + e.getMessage());
                    } finally {
                        for (StorageDriver d : opened) d.cleanup();
                        opened.clear();
                    }
                    if ((i + 1) % 10 == 0) System.err.println(op + ": " + (i + 1) + "/" + trials);
                }
            }
        } finally {
            List<MountInfo> left = MountInfo.under(root);
            if (!left.isEmpty()) failures.add("left mounted: " + left.stream().map(MountInfo::mountPoint).toList());
            work.close();
        }
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        System.out.printf(Locale.ROOT, "KillTrials %s %s: %d trials per operation, seed %d, %.0f s; load %s -> %s%n",
                driver, options, trials, seed, (System.nanoTime() - t0) / 1e9, load0, load1);
        System.out.printf(Locale.ROOT, "%-8s %8s %14s %14s %10s %22s%n", "op", "trials", "whole before", "whole after", "other", "op time ms (median)");
        for (KillTrial.Op op : KillTrial.Op.values()) {
            int[] c = counts.get(op);
            double[] ms = opMs.get(op).stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf(Locale.ROOT, "%-8s %8d %14d %14d %10d %22.1f%n", op.name().toLowerCase(), trials, c[0], c[1], c[2],
                    ms.length == 0 ? Double.NaN : ms[ms.length / 2]);
        }
        for (String f : failures) System.out.println("FAILED " + f);
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
