package dev.strata.bench;

import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.Native;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Apply and diff throughput of {@link LayerArchive} against GNU tar, measured in the same run on the same data, on a
 * warm JVM: peerbench's two data sets (20,000 files of 4 KiB in 200 dirs; 20 files of 20 MiB), generated here, on a
 * tmpfs and on a loop-mounted ext4 ({@code nobarrier}, as peerbench's), tars read from a tmpfs.
 *
 * <ul>
 *   <li>apply: {@code LayerArchive.apply} of the tar file vs {@code tar -xpf TAR -C DIR};</li>
 *   <li>diff: {@code LayerArchive.tree(DIR)} read fully vs {@code tar -cf - -C DIR .} read fully through a pipe,
 *   with GNU tar's default 10 KiB records and with {@code -b 2048} (1 MiB records, peerbench's reference).</li>
 * </ul>
 * Untimed before each timed rep: {@code sync(2)}, and removal of the previous rep's tree. Ours and GNU tar alternate
 * rep by rep so that both see the same background load. Reported: wall-time medians and the throughput ratio
 * (GNU tar's median time / ours; above 1 means faster than GNU tar), and the same for CPU time (user + system of
 * this JVM and of GNU tar, from getrusage; for GNU tar's diff it includes this JVM reading the pipe), which the
 * background load of a shared machine disturbs much less than wall time.
 *
 * <p>Usage: {@code ArchiveThroughput [--reps N] [--warmup N] [--targets tmpfs,disk] [--sets small,large]
 * [--work DIR] [--image-size BYTES]}. Needs root (mounts, loop device).
 */
public final class ArchiveThroughput {
    private static final MethodHandle SYNC = Native.plainCall("sync", FunctionDescriptor.ofVoid());

    private int reps = 5, warmup = 2;
    private List<String> targets = List.of("tmpfs", "disk");
    private List<String> sets = List.of("small", "large");
    private Path work = Path.of("/tmp/strata-bench-archive");
    private long imageSize = 8L << 30;
    private final List<Path> mounts = new ArrayList<>();
    private final List<String[]> rows = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        ArchiveThroughput b = new ArchiveThroughput();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> b.reps = Integer.parseInt(args[++i]);
                case "--warmup" -> b.warmup = Integer.parseInt(args[++i]);
                case "--targets" -> b.targets = List.of(args[++i].split(","));
                case "--sets" -> b.sets = List.of(args[++i].split(","));
                case "--work" -> b.work = Path.of(args[++i]);
                case "--image-size" -> b.imageSize = Long.parseLong(args[++i]);
                default -> {
                    System.err.println("unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (!Kernel.isRoot()) {
            System.err.println("ArchiveThroughput needs root: it mounts a tmpfs and a loop-backed ext4");
            System.exit(2);
        }
        b.run();
    }

    private void run() throws Exception {
        Files.createDirectories(work);
        try {
            Path data = mountTmpfs(work.resolve("data"), "1200m");
            Map<String, DataSets> all = new LinkedHashMap<>();
            all.put("small", DataSets.SMALL);
            all.put("large", DataSets.LARGE);
            Map<String, Path> tars = new LinkedHashMap<>();
            for (String s : sets) {
                Path t = data.resolve(s + ".tar");
                long n = all.get(s).writeTar(t);
                System.out.printf(Locale.ROOT, "generated %s: %,d bytes%n", all.get(s).name(), n);
                tars.put(s, t);
            }
            System.out.printf(Locale.ROOT, "kernel %s, %d cpus, load %s, reps %d (+%d warm-up)%n", Kernel.release(),
                    Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim(), reps, warmup);
            for (String target : targets) {
                Path root = switch (target) {
                    case "tmpfs" -> mountTmpfs(work.resolve("tmpfs"), "4g");
                    case "disk" -> mountExt4(work.resolve("disk"));
                    default -> throw new IllegalArgumentException("unknown target " + target);
                };
                for (String s : sets) measure(target, root, all.get(s), tars.get(s));
            }
        } finally {
            for (int i = mounts.size() - 1; i >= 0; i--) {
                try {
                    Mounts.unmount(mounts.get(i), 0);
                } catch (RuntimeException e) {
                    System.err.println("unmount " + mounts.get(i) + ": " + e.getMessage());
                }
            }
            Files.deleteIfExists(work.resolve("backing.img"));
            try {
                for (Path m : mounts) Files.deleteIfExists(m);
                Files.deleteIfExists(work);
            } catch (IOException e) {
                System.err.println("left behind: " + e.getMessage());
            }
        }
        print();
    }

    private void measure(String target, Path root, DataSets set, Path tar) throws Exception {
        ApplyOptions options = new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true);
        long tarBytes = Files.size(tar);
        // apply
        List<long[]> ours = new ArrayList<>(), gnu = new ArrayList<>();
        for (int i = 0; i < warmup + reps; i++) {
            boolean timed = i >= warmup;
            for (int order = 0; order < 2; order++) {
                boolean oursFirst = i % 2 == 0;
                boolean doOurs = (order == 0) == oursFirst;
                if (!doOurs && !timed) continue; // GNU tar needs no warm-up
                Path dir = Files.createDirectories(root.resolve("apply"));
                sync();
                long[] u0 = Usage.now();
                long t0 = System.nanoTime();
                if (doOurs) {
                    try (InputStream in = new java.io.FileInputStream(tar.toFile())) {
                        LayerArchive.apply(dir, in, options);
                    }
                } else {
                    exec("tar", "-xpf", tar.toString(), "-C", dir.toString());
                }
                long t = System.nanoTime() - t0;
                long cpu = Usage.since(u0);
                if (timed) (doOurs ? ours : gnu).add(new long[]{t, cpu});
                exec("rm", "-rf", "--one-file-system", dir.toString());
            }
        }
        row(target, set, "apply", "tar -xpf", ours, gnu, tarBytes);

        // diff: both read the same tree, extracted by GNU tar
        Path src = Files.createDirectories(root.resolve("src"));
        exec("tar", "-xpf", tar.toString(), "-C", src.toString());
        List<long[]> ours2 = new ArrayList<>(), gnu10k = new ArrayList<>(), gnu1m = new ArrayList<>();
        long oursBytes = 0;
        byte[] buf = new byte[1 << 20];
        for (int i = 0; i < warmup + reps; i++) {
            boolean timed = i >= warmup;
            sync();
            long[] u0 = Usage.now();
            long t0 = System.nanoTime();
            long n = 0;
            try (InputStream in = LayerArchive.tree(src)) {
                for (int r; (r = in.read(buf)) > 0; ) n += r;
            }
            if (timed) ours2.add(new long[]{System.nanoTime() - t0, Usage.since(u0)});
            oursBytes = n;
            if (!timed) continue;
            sync();
            long[] u1 = Usage.now();
            long w = drain(buf, "tar", "-cf", "-", "-C", src.toString(), ".");
            gnu10k.add(new long[]{w, Usage.since(u1)});
            sync();
            long[] u2 = Usage.now();
            w = drain(buf, "tar", "-b", "2048", "-cf", "-", "-C", src.toString(), ".");
            gnu1m.add(new long[]{w, Usage.since(u2)});
        }
        row(target, set, "diff", "tar -cf - | read", ours2, gnu10k, oursBytes);
        row(target, set, "diff", "tar -b 2048 -cf - | read", ours2, gnu1m, oursBytes);
        exec("rm", "-rf", "--one-file-system", src.toString());
    }

    private void row(String target, DataSets set, String op, String ref, List<long[]> ours, List<long[]> gnu, long bytes) {
        double o = median(ours, 0) / 1e9, g = median(gnu, 0) / 1e9;
        double oc = median(ours, 1) / 1e9, gc = median(gnu, 1) / 1e9;
        String[] r = {set.shortName(), target, op, ref, f3(o), f3(g), String.format(Locale.ROOT, "**%.2fx**", g / o),
                String.format(Locale.ROOT, "%.0f", bytes / 1e6 / o), f3(oc), f3(gc), String.format(Locale.ROOT, "%.2fx", gc / oc),
                spread(ours), spread(gnu)};
        rows.add(r);
        System.out.printf(Locale.ROOT, "%-6s %-6s %-5s vs %-24s wall: ours %s s, ref %s s, ratio %s | cpu: ours %s s, ref %s s, ratio %s%n",
                r[0], r[1], r[2], r[3], r[4], r[5], r[6].replace("*", ""), r[8], r[9], r[10]);
    }

    private void print() {
        System.out.println();
        System.out.println("| set | on | op | reference | ours, median wall s | ref, median wall s | throughput ratio (ref / ours) "
                + "| ours MB/s | ours, median CPU s | ref, median CPU s | CPU ratio (ref / ours) | ours, wall per rep | ref, wall per rep |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (String[] r : rows) System.out.println("| " + String.join(" | ", r) + " |");
    }

    private static String f3(double x) {
        return String.format(Locale.ROOT, "%.3f", x);
    }

    private static String spread(List<long[]> l) {
        StringBuilder b = new StringBuilder();
        for (long[] x : l) b.append(b.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.2f", x[0] / 1e9));
        return b.toString();
    }

    private static double median(List<long[]> samples, int field) {
        List<Long> s = new ArrayList<>();
        for (long[] x : samples) s.add(x[field]);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
    }

    private Path mountTmpfs(Path dir, String size) throws IOException {
        Files.createDirectories(dir);
        Mounts.mount("tmpfs", dir, "tmpfs", 0, "size=" + size);
        mounts.add(dir);
        return dir;
    }

    /** A fresh ext4 on a sparse image file, loop-attached (autoclear) and mounted nobarrier, as peerbench's. */
    private Path mountExt4(Path dir) throws IOException {
        Path img = work.resolve("backing.img");
        Files.deleteIfExists(img);
        try (var f = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0);
            f.write(java.nio.ByteBuffer.allocate(1), imageSize - 1);
        }
        exec("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", img.toString());
        Files.createDirectories(dir);
        try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
            Mounts.mount(loop.device().toString(), dir, "ext4", 0, "nobarrier");
        }
        mounts.add(dir);
        if (!MountInfo.isMountPoint(dir)) throw new IllegalStateException("ext4 not mounted at " + dir);
        return dir;
    }

    private static void sync() {
        try {
            SYNC.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void exec(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            int rc = p.waitFor();
            if (rc != 0) throw new IllegalStateException(String.join(" ", cmd) + " exited " + rc);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs a command and reads its stdout fully through the pipe; returns the elapsed ns. */
    private static long drain(byte[] buf, String... cmd) {
        try {
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (InputStream in = p.getInputStream()) {
                while (in.read(buf) > 0) {
                    // discard, as peerbench does
                }
            }
            int rc = p.waitFor();
            long t = System.nanoTime() - t0;
            if (rc != 0) throw new IllegalStateException(String.join(" ", cmd) + " exited " + rc);
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
