package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.Native;
import dev.strata.nativeio.StatFs;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Strata's side of a Go peer ({@code benchmarks/peers/moby}, {@code ../shared/peerbench}): the same ops with the
 * same flags, timed the same way, written as the same JSON lines, so that a {@link Comparison} runs both sides on the
 * same backing in the same session ({@code -impl strata-<driver>}).
 *
 * <p>{@code -warmup N} runs N untimed rounds (lifecycle, create-chain) or reps (apply, diff) first, exactly what the
 * Go peer runs for the same flag: a long-running engine's steady state on both sides (default 0: a fresh process).
 * create-chain also accepts depths past moby's 128 (up to 501 layers: 500 lowers under the top) and
 * {@code -committed-depths} for layers that mount read-only.
 */
public final class PeerBench {
    private static final MethodHandle SYNC = Native.plainCall("sync", FunctionDescriptor.ofVoid());
    private static final MethodHandle GETRUSAGE = Native.plainCall("getrusage", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final int RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_SIZE = 144;

    private final Map<String, String> flags;
    private final StorageDriver d;
    private final Map<String, Object> r;

    private PeerBench(Map<String, String> flags, StorageDriver d, Map<String, Object> r) {
        this.flags = flags;
        this.d = d;
        this.r = r;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> f = parseFlags(args);
        String impl = f.get("impl"), op = f.get("op");
        Path root = Path.of(f.getOrDefault("root", "")).toAbsolutePath();
        if (impl == null || op == null || !impl.startsWith("strata-")) {
            System.err.println("usage: PeerBench -impl strata-<driver> -root DIR -op lifecycle|create-chain|apply|diff|changes|create-child [-tar T] [-n N] [-reps R] ...");
            System.exit(2);
        }
        Files.createDirectories(root);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", impl);
        r.put("op", op);
        r.put("run", Integer.parseInt(f.getOrDefault("run", "0")));
        r.put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        r.put("kernel", Kernel.release());
        r.put("go", "java " + Runtime.version());
        r.put("ncpu", Runtime.getRuntime().availableProcessors());
        r.put("backing", StatFs.of(root).typeName());
        if (!op.equals("lifecycle")) r.put("reps", reps(f, op));
        if (f.containsKey("label")) r.put("label", f.get("label"));
        if (f.containsKey("session")) r.put("session", f.get("session"));
        if (f.containsKey("tar")) r.put("tar", Path.of(f.get("tar")).getFileName().toString());
        long start = System.nanoTime();

        DriverRegistry registry = DriverRegistry.load();
        DriverProvider provider = registry.require(impl.substring("strata-".length()));
        List<String> opts = f.containsKey("driver-opts") && !f.get("driver-opts").isBlank()
                ? Arrays.asList(f.get("driver-opts").split(",")) : List.of();
        if (!opts.isEmpty()) r.put("driver_opts", String.join(",", opts));
        long t0 = System.nanoTime();
        StorageDriver d;
        try {
            d = registry.open(provider, root, opts);
        } catch (RuntimeException e) {
            r.put("error", "init: " + e.getMessage());
            System.out.println(Json.write(r));
            System.exit(1);
            return;
        }
        r.put("init_ms", PeerStats.round((System.nanoTime() - t0) / 1e6, 2));
        Map<String, String> status = new LinkedHashMap<>();
        for (StatusEntry s : d.status()) status.put(s.key(), s.value());
        r.put("driver_status", status);

        int rc = 0;
        PeerBench b = new PeerBench(f, d, r);
        try {
            switch (op) {
                case "lifecycle" -> b.lifecycle();
                case "create-chain" -> new ChainOp(b.flags, d, r).run();
                case "apply" -> new BulkOps(b.flags, d, r).apply();
                case "diff" -> new BulkOps(b.flags, d, r).diff();
                case "changes" -> new BulkOps(b.flags, d, r).changes();
                case "create-child" -> new BulkOps(b.flags, d, r).createChild();
                default -> throw new IllegalArgumentException("unknown -op " + op);
            }
        } catch (Exception e) {
            r.put("error", String.valueOf(e.getMessage()));
            rc = 1;
        }
        r.put("wall_s", PeerStats.round((System.nanoTime() - start) / 1e9, 6));
        try {
            d.cleanup();
        } catch (RuntimeException e) {
            r.put("cleanup_error", e.getMessage());
        }
        System.out.println(Json.write(r));
        System.exit(rc);
    }

    static int reps(Map<String, String> f, String op) {
        if (f.containsKey("reps")) return Integer.parseInt(f.get("reps"));
        return switch (op) {
            case "create-chain" -> 50;
            case "changes" -> 5;
            default -> 3;
        };
    }

    /**
     * peerbench's lifecycle: Create(lc-i, base) + Get + Put + Remove, each phase timed; warm-up rounds first, the
     * Go peer's work exactly. They run in the same loop as the timed rounds and are recorded, then dropped: a separate warm-up
     * loop left the JIT compiling this loop (on-stack replacement, with the driver's calls inlined into it) during
     * the timed rounds, 0.1-1.5 s of compiler threads competing with them on 2 cores. What it still compiles after
     * them is Strata's cost, and is reported ({@code jit_ms_timed}).
     *
     * <p>With {@code -lockstep} the timed rounds are one stage ("1") of {@link Lockstep}: the loop stops at the end of
     * each slice for the next one's size, so that the slices, too, run the loop the warm-up compiled. The process's
     * CPU and the JIT's time are taken from the first timed round to the end of the last, the waits for the other
     * side included: a compile that finishes while the other side times its slice is this side's cost.
     */
    private void lifecycle() throws IOException {
        int n = Integer.parseInt(flags.getOrDefault("n", "200"));
        int warmup = Integer.parseInt(flags.getOrDefault("warmup", "0"));
        Lockstep.Commands steps = Lockstep.Commands.of(flags);
        r.put("warmup", warmup);
        d.create("base", null, CreateOptions.NONE);
        if (flags.containsKey("tar")) {
            try (InputStream in = stream(flags.get("tar"))) {
                d.applyDiff("base", null, in);
            }
        }
        List<Long> tc = new ArrayList<>(), tg = new ArrayList<>(), tp = new ArrayList<>(), tr = new ArrayList<>(), tt = new ArrayList<>();
        // -cpu: each phase's CPU time on this thread instead of its wall time (user + system), which other processes
        // on a busy machine do not stretch: for A/B comparisons of Strata builds (the Go peer has no such flag).
        boolean cpu = flags.containsKey("cpu");
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.function.LongSupplier clock = cpu ? threads::getCurrentThreadCpuTime : System::nanoTime;
        if (cpu) r.put("clock", "thread cpu");
        long cpu0 = 0, cpu1 = 0, jit0 = 0, jit1 = 0;
        // end: the round at which the slice being timed ends (the timed rounds are one slice without -lockstep)
        for (int i = -warmup, end = 0; ; i++) {
            if (i == end) {
                if (i > 0) {
                    cpu1 = processCpuNanos();
                    jit1 = jitMillis();
                }
                int next;
                if (i == 0) {
                    // the warm-up recorded its rounds too, so that the JIT compiled this loop's recording (boxing,
                    // list growth) before the timed rounds instead of in them; they are dropped here
                    for (List<Long> l : List.of(tc, tg, tp, tr, tt)) l.clear();
                    sync();
                    next = steps == null ? n : steps.ready("1");
                    cpu0 = cpu1 = processCpuNanos();
                    jit0 = jit1 = jitMillis();
                } else {
                    next = steps == null ? 0 : steps.done("1");
                }
                if (next <= 0) break;
                end = i + next;
            }
            String id = i < 0 ? String.format("wu-%05d", i + warmup) : String.format("lc-%05d", i);
            long t0 = clock.getAsLong();
            d.create(id, "base", CreateOptions.NONE);
            long t1 = clock.getAsLong();
            d.get(id, "");
            long t2 = clock.getAsLong();
            d.put(id);
            long t3 = clock.getAsLong();
            d.remove(id);
            long t4 = clock.getAsLong();
            tc.add(t1 - t0);
            tg.add(t2 - t1);
            tp.add(t3 - t2);
            tr.add(t4 - t3);
            tt.add(t4 - t0);
        }
        r.put("n", tt.size());
        if (warmup > 0) r.put("warmup_rounds", warmup);
        if (!tt.isEmpty()) r.put("cpu_us", PeerStats.us((cpu1 - cpu0) / (double) tt.size()));
        r.put("jit_ms_timed", jit1 - jit0);
        Map<String, Object> total = PeerStats.of(tt);
        PeerStats.put(r, total);
        Map<String, Object> phases = new LinkedHashMap<>();
        phases.put("create", PeerStats.of(tc));
        phases.put("get", PeerStats.of(tg));
        phases.put("put", PeerStats.of(tp));
        phases.put("remove", PeerStats.of(tr));
        r.put("phases", phases);
        if (!tt.isEmpty()) r.put("ops_s", PeerStats.round(tt.size() / ((Number) total.get("total_s")).doubleValue(), 2));
    }

    /** Milliseconds the JIT has spent compiling in this process so far. */
    static long jitMillis() {
        return java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    }

    /**
     * CPU time of the whole process (every thread: the JIT's and the GC's too) and of its waited-for children, user
     * and system, ns: getrusage(2), as the Go peer reads it (peerkit.CPUNanos), so that "CPU per op" is the same
     * measure on both sides, one other processes do not stretch. (The JDK's process CPU time ticks in 10 ms here.)
     */
    static long processCpuNanos() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ru = a.allocate(RUSAGE_SIZE, 8);
            long ns = 0;
            for (int who : new int[] {RUSAGE_SELF, RUSAGE_CHILDREN}) {
                if ((int) GETRUSAGE.invokeExact(who, ru) != 0) return 0;
                // struct rusage begins with ru_utime and ru_stime, two struct timevals of (long sec, long usec)
                for (long off = 0; off < 32; off += 16) ns += ru.get(JAVA_LONG, off) * 1_000_000_000L + ru.get(JAVA_LONG, off + 8) * 1_000L;
            }
            return ns;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void sync() {
        try {
            SYNC.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The tar as a plain InputStream (not a FileInputStream), as peerbench hides *os.File from the drivers. */
    static InputStream stream(String tar) throws IOException {
        InputStream f = Files.newInputStream(Path.of(tar));
        return new InputStream() {
            @Override
            public int read() throws IOException {
                return f.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return f.read(b, off, len);
            }

            @Override
            public void close() throws IOException {
                f.close();
            }
        };
    }

    /** peerbench's tinyTar: one USTAR regular file of xorshift content, mode 0644, root-owned, mtime 2020-01-01. */
    static InputStream tinyTar(String name, int size, long seed) throws IOException {
        byte[] data = new byte[size];
        new XorShift(seed).fill(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var tw = new dev.strata.archive.tar.TarWriter(out)) {
            var h = new dev.strata.archive.tar.TarHeader();
            h.name = name;
            h.type = dev.strata.archive.tar.TarHeader.REGULAR;
            h.mode = 0644;
            h.size = size;
            h.mtimeNanos = 1577836800_000_000_000L;
            tw.writeHeader(h);
            tw.write(data, 0, size);
            tw.finish();
        }
        return new ByteArrayInputStream(out.toByteArray());
    }

    static Map<String, String> parseFlags(String[] args) {
        Map<String, String> f = new LinkedHashMap<>();
        TreeSet<String> booleans = new TreeSet<>(List.of("diff-parent", "debug", "cpu", "lockstep"));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-")) throw new IllegalArgumentException("unexpected argument " + a);
            String k = a.replaceFirst("^--?", "");
            int eq = k.indexOf('=');
            if (eq > 0) f.put(k.substring(0, eq), k.substring(eq + 1));
            else if (booleans.contains(k)) f.put(k, "true");
            else f.put(k, args[++i]);
        }
        return f;
    }

    /** peerbench's splitmix64-seeded xorshift (13, 7, 17), little-endian, so layers hold the same bytes as the peers'. */
    static final class XorShift {
        private long s;

        XorShift(long seed) {
            long z = seed + 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            s = z == 0 ? 1 : z;
        }

        long next() {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            return s;
        }

        void fill(byte[] b) {
            for (int i = 0; i < b.length; i += 8) {
                long v = next();
                for (int j = 0; j < 8 && i + j < b.length; j++) b[i + j] = (byte) (v >>> (8 * j));
            }
        }
    }
}
