package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * create-chain's untimed warm-up, the Go peer's {@code warmUp} ({@code benchmarks/peers/moby}) call for call: a
 * scratch chain wu-0001.. and, at every depth D of {@code depths}, a leaf wl-D with D-1 lowers (an uncommitted layer,
 * as a timed top is); then round i, with D the i-th of {@code depths} (cycling): Create of a child wc-i with D-1
 * lowers (and ApplyDiff in every {@link #APPLY_EVERY}th round), Get + Put of it twice, Get + Put of every leaf, Remove of
 * the child; at the end everything is removed, top first.
 *
 * <p>Why leaves at the timed depths: C2 code compiled from a profile of one depth meets branches it never saw at
 * another, deoptimizes (an uncommon trap) and runs tier-3 code again for ~5,000 more calls (measured with
 * {@code -XX:+PrintCompilation}: a warm-up at 0-1 lowers only, then get+put at 20 lowers, benchmarks/README.md). Why
 * the child, at every depth in turn: the first get of a new layer takes a path (its count opened, its lowers read,
 * its mount options made) that later gets of it skip, and the timed chain's first get at each depth takes it. Why
 * an ApplyDiff in only one round of ten: moby's re-executes a helper (~25 ms), which made its warm-up 4x Strata's,
 * while a tenth keeps both shapes of child (applied or not) in the profile.
 */
final class JitWarmUp {
    /** Rounds between two looks at the JIT's compile time. */
    static final int SAMPLE = 50;
    /** The rounds whose child gets a diff applied: one in this many. */
    static final int APPLY_EVERY = 10;
    /**
     * Get + Put of the round's child, twice: a layer's first uses and the later ones take different paths (Strata
     * maps a layer's count at its third use), and the timed chain's layers take both at every depth. With one get+put
     * per child the mapping path ran only for the leaves, in the first round, so C2 compiled it as never taken and
     * the first timed depths deoptimized get and put (RefCounts.open, Flock.locked: uncommon trap) and ran tier-3
     * code: the process's CPU per get+put at 1 and 5 lowers was 2.3-2.6x moby's, 0.7-0.9x from 10 lowers on.
     */
    static final int CHILD_GET_PUTS = 2;
    private final StorageDriver d;

    JitWarmUp(StorageDriver d) {
        this.d = d;
    }

    /**
     * Runs the warm-up; returns the last round (a multiple of {@link #SAMPLE}) after which the JIT had compiled
     * anything: near {@code rounds}, the warm-up was too short for this machine.
     */
    int run(int rounds, List<Integer> depths) throws IOException {
        int top = depths.stream().mapToInt(Integer::intValue).max().orElse(1);
        List<String> chain = new ArrayList<>();
        String prev = null;
        for (int dep = 1; dep < top; dep++) {
            String id = String.format("wu-%04d", dep);
            make(id, prev, id + ".txt", dep);
            chain.add(id);
            prev = id;
        }
        List<String> leaves = new ArrayList<>();
        for (int dep : depths) {
            String id = String.format("wl-%04d", dep);
            make(id, dep == 1 ? null : chain.get(dep - 2), id + ".txt", dep);
            leaves.add(id);
        }
        long jit = PeerBench.jitMillis();
        int busyUntil = 0;
        for (int i = 0; i < rounds; i++) {
            String id = "wc-" + i;
            int dep = depths.get(i % depths.size());
            String parent = dep == 1 ? null : chain.get(dep - 2);
            d.create(id, parent, CreateOptions.NONE);
            if (i % APPLY_EVERY == 0) d.applyDiff(id, parent, PeerBench.tinyTar(id + ".txt", 1024, i));
            for (int k = 0; k < CHILD_GET_PUTS; k++) {
                d.get(id, "");
                d.put(id);
            }
            for (String leaf : leaves) {
                d.get(leaf, "");
                d.put(leaf);
            }
            d.remove(id);
            if ((i + 1) % SAMPLE == 0 || i + 1 == rounds) {
                long now = PeerBench.jitMillis();
                if (now > jit) busyUntil = i + 1;
                jit = now;
            }
        }
        for (String leaf : leaves) d.remove(leaf);
        for (String id : chain.reversed()) d.remove(id);
        return busyUntil;
    }

    private void make(String id, String parent, String file, long seed) throws IOException {
        d.create(id, parent, CreateOptions.NONE);
        d.applyDiff(id, parent, PeerBench.tinyTar(file, 1024, seed));
    }
}
