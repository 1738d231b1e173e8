package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * peerbench's create-chain: builds ch-0001.. each as Create + ApplyDiff of a 1 KiB one-file tar, and right after
 * each reported depth D (the top is then an uncommitted rw layer with D-1 lowers) times Get + Put, checking that the
 * first and the last layer's files are visible. Depths may go to 501 (500 lowers, the kernel's limit).
 *
 * <p>Untimed first, exactly as the Go peer ({@code benchmarks/peers/moby}) does for the same flags: {@code -warmup N}
 * rounds on a scratch chain with a leaf at every depth of {@code -warmup-depths} ({@link JitWarmUp}), then before
 * each depth's timed reps {@code -depth-warmup W} get+puts of that layer. Each depth reports the process's CPU per
 * get+put ({@code cpu_us}) and what the JIT compiled during its timed reps ({@code jit_ms_timed}).
 */
final class ChainOp {
    private final Map<String, String> flags;
    private final StorageDriver d;
    private final Map<String, Object> r;
    private int depthWarmup;
    /** {@code -lockstep}: the commands of the process that times this one against another (null: time -reps at once). */
    private Lockstep.Commands lockstep;

    ChainOp(Map<String, String> flags, StorageDriver d, Map<String, Object> r) {
        this.flags = flags;
        this.d = d;
        this.r = r;
    }

    void run() throws Exception {
        int depth = Integer.parseInt(flags.getOrDefault("depth", "100"));
        int reps = PeerBench.reps(flags, "create-chain");
        TreeSet<Integer> want = new TreeSet<>();
        for (String s : flags.getOrDefault("depths", "1,10,50,100,127,128,129,130").split(",")) want.add(Integer.parseInt(s.trim()));
        want.add(depth);
        r.put("depth", depth);
        int warmup = Integer.parseInt(flags.getOrDefault("warmup", "0"));
        List<Integer> warmDepths = ints(flags.getOrDefault("warmup-depths", "2"));
        depthWarmup = Integer.parseInt(flags.getOrDefault("depth-warmup", "0"));
        lockstep = Lockstep.Commands.of(flags);
        r.put("warmup", warmup);
        r.put("warmup_depths", warmDepths);
        r.put("depth_warmup", depthWarmup);
        if (warmup > 0) {
            long t0 = System.nanoTime();
            long jit = PeerBench.jitMillis();
            r.put("warmup_jit_busy_until", new JitWarmUp(d).run(warmup, warmDepths));
            r.put("warmup_jit_ms", PeerBench.jitMillis() - jit);
            r.put("warmup_s", PeerStats.round((System.nanoTime() - t0) / 1e9, 3));
        }
        PeerBench.sync();
        int maxD = want.last();
        List<Map<String, Object>> results = new ArrayList<>();
        List<Long> createTimes = new ArrayList<>();
        String prev = null;
        String chainError = null;
        for (int dep = 1; dep <= maxD; dep++) {
            String id = String.format("ch-%04d", dep);
            long t0 = System.nanoTime();
            try {
                d.create(id, prev, CreateOptions.NONE);
                d.applyDiff(id, prev, PeerBench.tinyTar(String.format("layer-%04d.txt", dep), 1024, dep));
            } catch (RuntimeException e) {
                chainError = e.getMessage();
                r.put("chain_error", chainError);
                r.put("chain_error_depth", dep);
                for (int x : want) {
                    if (x >= dep) {
                        Map<String, Object> dr = new LinkedHashMap<>();
                        dr.put("depth", x);
                        dr.put("lowers", x - 1);
                        dr.put("error", "chain creation failed at depth " + dep + ": " + chainError);
                        results.add(dr);
                    }
                }
                break;
            }
            long ct = System.nanoTime() - t0;
            createTimes.add(ct);
            if (want.contains(dep)) results.add(measure(id, dep, ct, reps));
            prev = id;
        }
        r.put("depths", results);
        // Layers below the top have a child, so they mount read-only (their own diff joins the lowers).
        if (flags.containsKey("committed-depths") && chainError == null) {
            List<Map<String, Object>> committed = new ArrayList<>();
            for (int dep : ints(flags.get("committed-depths"))) {
                if (dep >= maxD) continue;
                Map<String, Object> dr = measure(String.format("ch-%04d", dep), dep, 0, reps);
                dr.remove("create_apply_us");
                dr.put("mount", "read-only (has a child)");
                committed.add(dr);
            }
            r.put("committed_depths", committed);
        }
        r.put("chain_create_apply", PeerStats.of(createTimes));
        r.put("chain_built", createTimes.size());
        for (Map<String, Object> dr : results) {
            if (((Integer) dr.get("depth")) == depth) {
                @SuppressWarnings("unchecked")
                Map<String, Object> gp = (Map<String, Object>) dr.get("get_put");
                if (gp != null) PeerStats.put(r, gp);
                if (dr.containsKey("error")) r.put("error", dr.get("error"));
            }
        }
    }

    private Map<String, Object> measure(String id, int dep, long createNanos, int reps) throws IOException {
        Map<String, Object> dr = new LinkedHashMap<>();
        dr.put("depth", dep);
        dr.put("lowers", dep - 1);
        dr.put("create_apply_us", PeerStats.us(createNanos));
        for (int i = 0; i < depthWarmup; i++) {
            try {
                d.get(id, "");
            } catch (RuntimeException e) {
                dr.put("error", "get: " + e.getMessage());
                return dr;
            }
            d.put(id);
        }
        Timed t = new Timed(id, dep, dr);
        if (lockstep == null) {
            t.reps(reps);
        } else {
            // Lockstep (Lockstep.java drives it): the other side's process waits while this one times a slice of reps.
            String stage = createNanos == 0 ? "c" + dep : Integer.toString(dep);
            for (int n = lockstep.ready(stage); n > 0; n = lockstep.done(stage)) t.reps(n);
        }
        if (!t.tgp.isEmpty()) {
            dr.put("cpu_us", PeerStats.us(t.cpuNanos / (double) t.tgp.size()));
            dr.put("jit_ms_timed", t.jitMillis);
            dr.put("get", PeerStats.of(t.tg));
            dr.put("put", PeerStats.of(t.tp));
            dr.put("get_put", PeerStats.of(t.tgp));
        }
        return dr;
    }

    /**
     * The timed get+puts of one layer, in one or several slices (lockstep): every get, put and get+put, and the
     * process's CPU and Strata's JIT time summed over the slices only (not while waiting for the other side).
     */
    private final class Timed {
        final String id;
        final int dep;
        final Map<String, Object> dr;
        final List<Long> tg = new ArrayList<>(), tp = new ArrayList<>(), tgp = new ArrayList<>();
        long cpuNanos, jitMillis;

        Timed(String id, int dep, Map<String, Object> dr) {
            this.id = id;
            this.dep = dep;
            this.dr = dr;
        }

        void reps(int n) {
            if (dr.containsKey("error")) return;
            long jit0 = PeerBench.jitMillis(), cpu0 = PeerBench.processCpuNanos();
            for (int i = 0; i < n; i++) {
                long t1 = System.nanoTime();
                Path mp;
                try {
                    mp = d.get(id, "");
                } catch (RuntimeException e) {
                    dr.put("error", "get: " + e.getMessage());
                    break;
                }
                long t2 = System.nanoTime();
                if (tgp.isEmpty() && i == 0) {
                    if (!Files.exists(mp.resolve(String.format("layer-%04d.txt", dep)))) dr.put("error", "mounted view lacks top file");
                    if (dep > 1 && !Files.exists(mp.resolve("layer-0001.txt"))) dr.put("error", "mounted view lacks bottom file");
                }
                long t3 = System.nanoTime();
                d.put(id);
                long t4 = System.nanoTime();
                tg.add(t2 - t1);
                tp.add(t4 - t3);
                tgp.add((t2 - t1) + (t4 - t3));
            }
            cpuNanos += PeerBench.processCpuNanos() - cpu0;
            jitMillis += PeerBench.jitMillis() - jit0;
        }
    }

    static List<Integer> ints(String s) {
        return Arrays.stream(s.split(",")).map(String::trim).map(Integer::parseInt).toList();
    }
}
