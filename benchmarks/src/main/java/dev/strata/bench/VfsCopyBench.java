package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * vfs create of a child of a 20,000-file layer against {@code cp -a --reflink=auto} of the same tree, on the
 * same scratch filesystem, interleaved rep by rep so that both see the same machine. Usage:
 * {@code VfsCopyBench [tmpfs|ext4] [reps]}.
 */
public final class VfsCopyBench {
    public static void main(String[] args) throws Exception {
        String backing = args.length > 0 ? args[0] : "ext4";
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        try (BenchMount s = backing.equals("tmpfs") ? BenchMount.tmpfs("4g") : BenchMount.ext4(8L << 30)) {
            Path root = s.mount.resolve("root");
            DriverRegistry registry = DriverRegistry.load();
            StorageDriver vfs = registry.open(registry.require("vfs"), root, List.of());
            vfs.create("base", null, CreateOptions.NONE);
            Path base = vfs.get("base", null);
            fill(base, 20_000, 200, 4096);
            vfs.put("base");
            Path ref = Files.createDirectories(s.mount.resolve("ref"));

            List<Double> strata = new ArrayList<>();
            List<Double> cp = new ArrayList<>();
            for (int i = 0; i < reps + 1; i++) { // the first rep warms the JVM and the page cache
                Stats.sync();
                long t0 = System.nanoTime();
                vfs.create("child", "base", CreateOptions.NONE);
                double ts = (System.nanoTime() - t0) / 1e9;
                vfs.remove("child");
                Stats.sync();
                double tc = Stats.time(List.of("cp", "-a", "--reflink=auto", base.toString(), ref.resolve("copy").toString()));
                Stats.time(List.of("rm", "-rf", ref.resolve("copy").toString()));
                if (i > 0) {
                    strata.add(ts);
                    cp.add(tc);
                }
            }
            double ms = Stats.median(strata);
            double mc = Stats.median(cp);
            System.out.printf(Locale.ROOT, "vfs create of a child of a 20,000-file layer on %s, %d reps (load %s)%n", backing, reps, Stats.loadAverage());
            System.out.printf(Locale.ROOT, "  strata vfs create : median %s  %s%n", Stats.fmt(ms), strata);
            System.out.printf(Locale.ROOT, "  cp -a --reflink=auto: median %s  %s%n", Stats.fmt(mc), cp);
            System.out.printf(Locale.ROOT, "  ratio strata/cp = %.2f (below 1.0 is faster than cp)%n", ms / mc);
            System.out.printf(Locale.ROOT, "  status: %s%n", vfs.status());
            vfs.remove("base");
        }
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
