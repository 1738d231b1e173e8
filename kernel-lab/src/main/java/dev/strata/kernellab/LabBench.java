package dev.strata.kernellab;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.DriverContext;
import dev.strata.api.StorageDriver;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The kernel lab's benchmark, meant to run inside the guest (where devicemapper works): per-operation medians of
 * create+get+put+remove and applyDiff throughput on peerbench's two data sets (20,000 files of 4 KiB in 200
 * directories; 20 files of 20 MiB), for devicemapper and for vfs as the reference measured in the same VM. TCG
 * makes absolute numbers meaningless; the ratio is the figure.
 *
 * <pre>
 * KernelLabMain --memory 4096 --java dev.strata.kernellab.LabBench [LIFECYCLE_REPS] [APPLY_REPS]
 * </pre>
 */
public final class LabBench {
    static final List<String> DEVMAPPER_OPTIONS = List.of("dm.basesize=2G", "dm.loopdatasize=8G", "dm.loopmetadatasize=256M");

    private LabBench() {
    }

    record Result(String driver, Map<String, Double> lifecycleMs, Map<String, Double> applyMBs) {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path scratch = Path.of(System.getProperty("java.io.tmpdir"));
        Path small = scratch.resolve("small-files.tar"), large = scratch.resolve("large-files.tar");
        long smallPayload = writeTar(small, 20_000, 4096, 200);
        long largePayload = writeTar(large, 20, 20L << 20, 1);
        System.out.printf(Locale.ROOT, "bench: data sets %s (%d bytes), %s (%d bytes); load %s%n", small.getFileName(),
                Files.size(small), large.getFileName(), Files.size(large), Files.readString(Path.of("/proc/loadavg")).strip());
        List<Result> results = new ArrayList<>();
        for (String driver : List.of("devmapper", "vfs")) {
            Path home = scratch.resolve("bench-" + driver);
            List<String> opts = driver.equals("devmapper") ? DEVMAPPER_OPTIONS : List.of();
            DriverProvider p = DriverRegistry.load().require(driver);
            StorageDriver d = p.open(new DriverContext(home, DriverOptions.parse(driver, opts, p.options())));
            try {
                Map<String, Double> life = lifecycle(d, n);
                Map<String, Double> apply = new LinkedHashMap<>();
                apply.put("small-files", apply(d, small, smallPayload, reps));
                apply.put("large-files", apply(d, large, largePayload, reps));
                results.add(new Result(driver, life, apply));
                System.out.printf(Locale.ROOT, "bench: %s lifecycle medians (ms) %s, apply MB/s %s%n", driver, life, apply);
            } finally {
                d.cleanup();
            }
        }
        Files.delete(small);
        Files.delete(large);
        print(results.get(0), results.get(1), n, reps);
    }

    /** peerbench's lifecycle: Create(lc-i, base) + Get + Put + Remove, each phase timed; medians in ms. */
    static Map<String, Double> lifecycle(StorageDriver d, int n) {
        d.create("bench-base", null, CreateOptions.NONE);
        Map<String, List<Double>> t = new LinkedHashMap<>();
        for (String k : List.of("create", "get", "put", "remove", "total")) t.put(k, new ArrayList<>());
        for (int i = -3; i < n; i++) { // three warm-up rounds
            String id = "lc-" + (i + 3);
            long a = System.nanoTime();
            d.create(id, "bench-base", CreateOptions.NONE);
            long b = System.nanoTime();
            d.get(id, "");
            long c = System.nanoTime();
            d.put(id);
            long e = System.nanoTime();
            d.remove(id);
            long f = System.nanoTime();
            if (i < 0) continue;
            t.get("create").add((b - a) / 1e6);
            t.get("get").add((c - b) / 1e6);
            t.get("put").add((e - c) / 1e6);
            t.get("remove").add((f - e) / 1e6);
            t.get("total").add((f - a) / 1e6);
        }
        d.remove("bench-base");
        Map<String, Double> out = new LinkedHashMap<>();
        t.forEach((k, v) -> out.put(k, median(v)));
        return out;
    }

    /** ApplyDiff of the whole tar into a fresh layer; MB/s (10^6) of payload from the median rep. */
    static double apply(StorageDriver d, Path tar, long payload, int reps) throws Exception {
        List<Double> secs = new ArrayList<>();
        for (int i = -1; i < reps; i++) {
            d.create("ap", null, CreateOptions.NONE);
            sync();
            long t0 = System.nanoTime();
            try (InputStream in = new BufferedInputStream(Files.newInputStream(tar), 1 << 20)) {
                d.applyDiff("ap", null, in);
            }
            double s = (System.nanoTime() - t0) / 1e9;
            d.remove("ap");
            if (i >= 0) secs.add(s);
        }
        return payload / 1e6 / median(secs);
    }

    static void print(Result dm, Result vfs, int n, int reps) {
        System.out.println();
        System.out.printf(Locale.ROOT, "kernel lab bench (in the guest, TCG; lifecycle n=%d, apply reps=%d)%n", n, reps);
        System.out.printf(Locale.ROOT, "%-28s %12s %12s %10s%n", "metric", "devmapper", "vfs", "dm/vfs");
        for (String k : dm.lifecycleMs().keySet()) {
            double a = dm.lifecycleMs().get(k), b = vfs.lifecycleMs().get(k);
            System.out.printf(Locale.ROOT, "%-28s %9.1f ms %9.1f ms %9.2fx%n", "lifecycle " + k + " (median)", a, b, a / b);
        }
        for (String k : dm.applyMBs().keySet()) {
            double a = dm.applyMBs().get(k), b = vfs.applyMBs().get(k);
            System.out.printf(Locale.ROOT, "%-28s %7.1f MB/s %7.1f MB/s %9.2fx%n", "applyDiff " + k, a, b, a / b);
        }
    }

    /** A USTAR of {@code files} files of {@code size} bytes in {@code dirs} directories, xorshift content seeded per file. */
    static long writeTar(Path out, int files, long size, int dirs) throws IOException {
        long payload = 0;
        byte[] buf = new byte[1 << 16];
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            long mtime = 1577836800_000L; // 2020-01-01
            for (int d = 0; d < dirs; d++) {
                TarArchiveEntry e = new TarArchiveEntry(dirName(d, dirs) + "/");
                e.setMode(040755);
                e.setModTime(mtime);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
            }
            for (int f = 0; f < files; f++) {
                TarArchiveEntry e = new TarArchiveEntry(dirName(f % dirs, dirs) + "/file-" + f);
                e.setMode(0100644);
                e.setSize(size);
                e.setModTime(mtime);
                tar.putArchiveEntry(e);
                long x = 0x9E3779B97F4A7C15L ^ (f + 1);
                for (long left = size; left > 0; ) {
                    int len = (int) Math.min(buf.length, left);
                    for (int i = 0; i + 8 <= len; i += 8) {
                        x ^= x << 13;
                        x ^= x >>> 7;
                        x ^= x << 17;
                        for (int j = 0; j < 8; j++) buf[i + j] = (byte) (x >>> (8 * j));
                    }
                    tar.write(buf, 0, len);
                    left -= len;
                }
                tar.closeArchiveEntry();
                payload += size;
            }
            tar.finish();
        }
        return payload;
    }

    private static String dirName(int d, int dirs) {
        return dirs == 1 ? "data" : String.format(Locale.ROOT, "dir-%03d", d);
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int k = s.size();
        return k % 2 == 1 ? s.get(k / 2) : (s.get(k / 2 - 1) + s.get(k / 2)) / 2;
    }

    private static void sync() throws IOException, InterruptedException {
        new ProcessBuilder("sync").start().waitFor();
    }
}
