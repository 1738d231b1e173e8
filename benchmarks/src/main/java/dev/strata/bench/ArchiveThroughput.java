package dev.strata.bench;

import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.Kernel;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.strata.bench.Comparison.Goal;
import static dev.strata.bench.Comparison.Metric;

/**
 * layer-archive's apply and diff against GNU tar, as a {@link Comparison}: peerbench's two data sets (20,000 files of
 * 4 KiB in 200 dirs; 20 files of 20 MiB) on a tmpfs and on a loop-mounted ext4 ({@code nobarrier}, as peerbench's),
 * tars read from a tmpfs. Two ways, each the same for both sides:
 * <ul>
 *   <li><b>warm</b>: Strata in this long-running JVM, GNU tar as the process it always is; each block does
 *   {@code --warmup} untimed reps, then {@code --reps} timed ones, on both sides;</li>
 *   <li><b>process</b>: a fresh process per rep on both sides: GNU tar, and a fresh JVM running {@link ArchiveOnce}
 *   with the launcher's flags for apply and diff (what a command-line user of either pays, less the launcher's AOT
 *   cache).</li>
 * </ul>
 * apply: {@code LayerArchive.apply} of the tar file vs {@code tar -xpf TAR -C DIR}. diff: a tar of the whole tree
 * written into a pipe that this JVM reads fully, by {@code LayerArchive.writeTree} vs {@code tar -cf - -C DIR .},
 * GNU tar with its default 10 KiB records and with {@code -b 2048} (1 MiB records, its strongest). Untimed before
 * each rep: sync(2), and the removal of the previous rep's tree. Values: throughput from the median rep's wall time,
 * and the median rep's CPU time (user + system, this process and its children, from getrusage).
 *
 * <pre>scripts/bench-archive [--runs N] [--warmup N] [--reps N] [--targets tmpfs,disk] [--sets small,large]
 * [--modes warm,process]</pre>
 */
public final class ArchiveThroughput {
    private static final ApplyOptions OPTIONS = new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true);

    private int runs = Comparison.MIN_RUNS, warmup = 1, reps = 3;
    private List<String> targets = List.of("tmpfs", "disk"), sets = List.of("small", "large"), modes = List.of("warm", "process");

    public static void main(String[] args) throws Exception {
        ArchiveThroughput b = new ArchiveThroughput();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> b.runs = Integer.parseInt(args[++i]);
                case "--warmup" -> b.warmup = Integer.parseInt(args[++i]);
                case "--reps" -> b.reps = Integer.parseInt(args[++i]);
                case "--targets" -> b.targets = List.of(args[++i].split(","));
                case "--sets" -> b.sets = List.of(args[++i].split(","));
                case "--modes" -> b.modes = List.of(args[++i].split(","));
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
        Comparison c = new Comparison("layer-archive against GNU tar", runs, null);
        List<BenchMount> mounts = new ArrayList<>();
        try {
            BenchMount data = BenchMount.tmpfs("1200m");
            mounts.add(data);
            Map<String, Path> tars = new LinkedHashMap<>();
            for (String s : sets) {
                Path t = data.mount.resolve(s + ".tar");
                set(s).writeTar(t);
                tars.put(s, t);
            }
            for (String target : targets) {
                BenchMount m = switch (target) {
                    case "tmpfs" -> BenchMount.tmpfs("4g");
                    case "disk" -> BenchMount.ext4(8L << 30);
                    default -> throw new IllegalArgumentException("unknown target " + target + " (tmpfs, disk)");
                };
                mounts.add(m);
                for (String s : sets) {
                    for (String mode : modes) cases(c, target, m.mount, s, tars.get(s), mode);
                }
            }
            System.out.printf(Locale.ROOT, "kernel %s, %d CPUs; GNU tar's process start: %.2f ms (tar --version, median of 20)%n",
                    Kernel.release(), Runtime.getRuntime().availableProcessors(), execFloorMs());
            c.run();
        } finally {
            for (BenchMount m : mounts.reversed()) m.close();
        }
        c.print();
        System.out.printf(Locale.ROOT, "%nEach block: %d untimed rep(s), then %d timed; value from the median rep. scripts/bench-archive --runs %d "
                + "--warmup %d --reps %d --targets %s --sets %s --modes %s%n", warmup, reps, runs, warmup, reps,
                String.join(",", targets), String.join(",", sets), String.join(",", modes));
    }

    private static DataSets set(String s) {
        return switch (s) {
            case "small" -> DataSets.SMALL;
            case "large" -> DataSets.LARGE;
            default -> throw new IllegalArgumentException("unknown set " + s + " (small, large)");
        };
    }

    private void cases(Comparison c, String target, Path root, String set, Path tar, String mode) throws Exception {
        long tarBytes = Files.size(tar);
        boolean fresh = mode.equals("process");
        if (!fresh && !mode.equals("warm")) throw new IllegalArgumentException("unknown mode " + mode + " (warm, process)");
        List<Metric> rate = List.of(Metric.rate("MB/s", "MB/s (tar bytes)", fresh ? null : Goal.ratio(1.0, Double.NaN)),
                Metric.time("CPU s", "CPU s", null));
        String where = set + " on " + target + (fresh ? ", fresh process" : ", warm");

        Path applyDir = root.resolve("apply");
        Rep strataApply = fresh ? () -> exec(javaCmd("apply", tar.toString(), applyDir.toString()))
                : () -> {
                    try (InputStream in = new FileInputStream(tar.toFile())) {
                        LayerArchive.apply(applyDir, in, OPTIONS);
                    }
                };
        Rep tarApply = () -> exec(List.of("tar", "-xpf", tar.toString(), "-C", applyDir.toString()));
        c.add(new Comparison.Case("apply " + where, List.of(
                new RepSide(fresh ? "strata (fresh JVM)" : "strata", strataApply, applyDir, tarBytes),
                new RepSide("tar -xpf", tarApply, applyDir, tarBytes)), rate, Comparison.warmFiles(tar)));

        // diff: both read the same tree, extracted once by GNU tar
        Path src = root.resolve("src-" + set);
        if (!Files.exists(src)) {
            Files.createDirectories(src);
            exec(List.of("tar", "-xpf", tar.toString(), "-C", src.toString()));
        }
        long diffBytes = drainCommand(List.of("tar", "-cf", "-", "-C", src.toString(), "."));
        Rep strataDiff = fresh ? () -> drainCommand(javaCmd("diff", src.toString())) : () -> drainWriteTree(src);
        c.add(new Comparison.Case("diff " + where, List.of(
                new RepSide(fresh ? "strata (fresh JVM)" : "strata", strataDiff, null, diffBytes),
                new RepSide("tar -cf", () -> drainCommand(List.of("tar", "-cf", "-", "-C", src.toString(), ".")), null, diffBytes),
                new RepSide("tar -b 2048 -cf", () -> drainCommand(List.of("tar", "-b", "2048", "-cf", "-", "-C", src.toString(), ".")),
                        null, diffBytes)), rate, Comparison.Prepare.NOTHING));
    }

    @FunctionalInterface
    interface Rep {
        void run() throws Exception;
    }

    /** One side: per block {@code warmup} untimed reps, then {@code reps} timed ones; {@code scratch} is emptied after each. */
    private final class RepSide implements Comparison.Side {
        private final String name;
        private final Rep rep;
        private final Path scratch;
        private final long bytes;

        RepSide(String name, Rep rep, Path scratch, long bytes) {
            this.name = name;
            this.rep = rep;
            this.scratch = scratch;
            this.bytes = bytes;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Map<String, Double> measure(int run) throws Exception {
            List<Double> wall = new ArrayList<>(), cpu = new ArrayList<>();
            for (int i = 0; i < warmup + reps; i++) {
                if (scratch != null) Files.createDirectories(scratch);
                PeerBench.sync();
                long[] u0 = Usage.now();
                long t0 = System.nanoTime();
                rep.run();
                long t = System.nanoTime() - t0;
                long cpuNs = Usage.since(u0);
                if (i >= warmup) {
                    wall.add(t / 1e9);
                    cpu.add(cpuNs / 1e9);
                }
                if (scratch != null) exec(List.of("rm", "-rf", "--one-file-system", scratch.toString()));
            }
            return Map.of("MB/s", bytes / 1e6 / Comparison.median(wall), "CPU s", Comparison.median(cpu));
        }
    }

    /** A fresh JVM with the flags the launcher gives apply and diff (it adds an AOT cache of its own jar, which this has not). */
    private static List<String> javaCmd(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xss2m", "-cp", System.getProperty("java.class.path"), ArchiveOnce.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** LayerArchive.writeTree into a pipe, read fully here with 1 MiB reads: what {@link #drainCommand} does with tar's stdout. */
    private static void drainWriteTree(Path src) throws Exception {
        Pipe p = Pipe.open();
        Thread reader = Thread.ofPlatform().start(() -> drain(p.source()));
        try (OutputStream out = Channels.newOutputStream(p.sink())) {
            LayerArchive.writeTree(src, out);
        }
        reader.join();
    }

    private static void drain(Pipe.SourceChannel in) {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (in) {
            while (in.read(buf) >= 0) buf.clear();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a command and reads its stdout fully through the pipe with 1 MiB reads; returns the bytes read. */
    private static long drainCommand(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long n = 0;
        byte[] buf = new byte[1 << 20];
        try (InputStream in = p.getInputStream()) {
            for (int r; (r = in.read(buf)) >= 0; ) n += r;
        }
        if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue());
        return n;
    }

    private static void exec(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed");
    }

    private static double execFloorMs() throws Exception {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            long t0 = System.nanoTime();
            exec(List.of("tar", "--version"));
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        return Comparison.median(ms);
    }
}
