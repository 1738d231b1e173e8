package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.strata.bench.Comparison.Goal;
import static dev.strata.bench.Comparison.Metric;

/**
 * vfs create of a child of a 20,000-file layer against {@code cp -a --reflink=auto} of the same tree, on the same
 * scratch filesystem, as a {@link Comparison}: each block does one untimed copy and then REPS timed ones (each after
 * sync(2), the copy removed untimed), on both sides. Usage: {@code VfsCopyBench [tmpfs|ext4] [REPS] [RUNS]}.
 */
public final class VfsCopyBench {
    private VfsCopyBench() {
    }

    public static void main(String[] args) throws Exception {
        String backing = args.length > 0 ? args[0] : "ext4";
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : Comparison.MIN_RUNS;
        Comparison c = new Comparison("vfs create of a child of a 20,000-file layer on " + backing + ", against cp -a", runs, null);
        StorageDriver vfs;
        try (BenchMount s = backing.equals("tmpfs") ? BenchMount.tmpfs("4g") : BenchMount.ext4(8L << 30)) {
            DriverRegistry registry = DriverRegistry.load();
            vfs = registry.open(registry.require("vfs"), s.mount.resolve("root"), List.of());
            vfs.create("base", null, CreateOptions.NONE);
            Path base = vfs.get("base", null);
            fill(base, 20_000, 200, 4096);
            vfs.put("base");
            Path copy = Files.createDirectories(s.mount.resolve("ref")).resolve("copy");
            Timed strata = () -> {
                long t0 = System.nanoTime();
                vfs.create("child", "base", CreateOptions.NONE);
                long t = System.nanoTime() - t0;
                vfs.remove("child");
                return t;
            };
            Timed cp = () -> {
                long t = exec(List.of("cp", "-a", "--reflink=auto", base.toString(), copy.toString()));
                exec(List.of("rm", "-rf", copy.toString()));
                return t;
            };
            c.add(new Comparison.Case("create child", List.of(side("strata vfs", strata, reps), side("cp -a --reflink=auto", cp, reps)),
                    List.of(Metric.time("s", "s", Goal.ratio(1.0, Double.NaN))), Comparison.Prepare.NOTHING));
            c.run();
            System.out.println("vfs status: " + vfs.status());
            vfs.remove("base");
        }
        c.print();
        System.out.println("\nscripts/bench VfsCopyBench " + backing + " " + reps + " " + runs);
    }

    @FunctionalInterface
    private interface Timed {
        long nanos() throws Exception;
    }

    private static Comparison.Side side(String name, Timed op, int reps) {
        return new Comparison.Side() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Map<String, Double> measure(int run) throws Exception {
                List<Double> s = new ArrayList<>();
                for (int i = 0; i <= reps; i++) { // the first untimed: the JIT, the page cache and the dentries
                    PeerBench.sync();
                    long t = op.nanos();
                    if (i > 0) s.add(t / 1e9);
                }
                return Map.of("s", Comparison.median(s));
            }
        };
    }

    private static long exec(List<String> cmd) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IOException("failed: " + String.join(" ", cmd));
        return System.nanoTime() - t0;
    }

    /** 20,000 files of 4 KiB in 200 directories, incompressible, as peerbench's small-files set. */
    static void fill(Path dir, int files, int dirs, int size) throws Exception {
        Random r = new Random(42);
        byte[] buf = new byte[size];
        for (int d = 0; d < dirs; d++) Files.createDirectories(dir.resolve("d" + d));
        for (int f = 0; f < files; f++) {
            r.nextBytes(buf);
            Files.write(dir.resolve("d" + (f % dirs)).resolve("f" + f), buf);
        }
    }
}
