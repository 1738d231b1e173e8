package dev.strata.snapshotter;

import containerd.services.snapshots.v1.SnapshotsOuterClass.Info;
import containerd.services.snapshots.v1.SnapshotsOuterClass.Kind;
import containerd.types.MountOuterClass.Mount;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


/**
 * kill -9 of the snapshotter process at random points of a busy workload (two clients preparing, committing,
 * viewing, updating and removing), then a restart on the same root with the client's channel kept open, as
 * containerd keeps running: every acknowledged change is there, a change in flight is wholly done or not done,
 * no other snapshot appears, no layer is left without a snapshot, and the active snapshots still hold what was
 * written into them.
 */
class CrashTest {
    private static final int TRIALS = 5;
    private static final int THREADS = 2;

    /** What a snapshot must look like. */
    record Expect(Kind kind, String parent, Map<String, String> labels, boolean marked) {
        Expect withLabels(Map<String, String> l) {
            return new Expect(kind, parent, l, marked);
        }
    }

    /** One call: what the state is if it took effect. */
    record Op(String type, String key, String name, String parent, Map<String, String> labels) {
    }

    private final Map<String, Expect> model = new ConcurrentHashMap<>();
    /** Names are never reused across trials. */
    private final java.util.concurrent.atomic.AtomicInteger seq = new java.util.concurrent.atomic.AtomicInteger();

    @TempDir
    Path tmp;

    @Test
    void killNineAtRandomPointsLeavesNoHalfMadeSnapshot() throws Exception {
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        Path root = tmp.resolve("root"), socket = tmp.resolve("s.sock");
        Path log = Path.of("target", "crash-test-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        ServerProcess server = ServerProcess.start("overlay", root, socket, log);
        try (Client c = new Client(socket)) {
            c.prepare("base-a", "");
            c.commit("base", "base-a");
            model.put("base", new Expect(Kind.COMMITTED, "", Map.of(), false));
            List<String> report = new ArrayList<>(List.of("seed " + seed));
            int done = 0;
            for (int trial = 0; trial < TRIALS; trial++) {
                AtomicBoolean killed = new AtomicBoolean();
                Map<Integer, Op> inFlight = new ConcurrentHashMap<>();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int n = t;
                    long s = rnd.nextLong();
                    threads.add(Thread.ofPlatform().start(() -> work(c, n, new Random(s), killed, inFlight, failure)));
                }
                // a random number of calls in (a cold server on a busy machine is slow), then a random moment
                int calls = done + 5 + rnd.nextInt(30);
                while (seq.get() < calls && failure.get() == null && threads.stream().anyMatch(Thread::isAlive)) Thread.sleep(1);
                Thread.sleep(rnd.nextInt(40));
                killed.set(true);
                server.kill();
                for (Thread t : threads) t.join();
                if (failure.get() != null) throw new AssertionError("seed " + seed + ", trial " + trial, failure.get());
                server = ServerProcess.start("overlay", root, socket, log);
                c.awaitServing();
                verify(c, root, inFlight.values(), "seed " + seed + ", trial " + trial);
                report.add("trial " + trial + ": killed after " + (seq.get() - done) + " calls, in flight " + inFlight.values()
                        + "; " + model.size() + " snapshots after the restart");
                done = seq.get();
            }
            // everything goes, children first, and a clean stop leaves nothing behind
            while (model.size() > 0) {
                for (String k : List.copyOf(model.keySet())) {
                    if (model.values().stream().noneMatch(e -> e.parent().equals(k))) {
                        c.remove(k);
                        model.remove(k);
                    }
                }
            }
            assertTrue(c.list().isEmpty());
            c.cleanup();
            Files.write(Path.of("target", "crash-test.txt"), report);
            assertEquals(143, server.terminate(), "a clean stop on SIGTERM: " + ServerProcess.tail(log));
        } finally {
            server.close();
        }
        assertEquals(List.of(), layers(root), "layers left after removing every snapshot");
        assertTrue(Mountinfo.under(tmp.toString()).isEmpty(), "mounts left: " + Mountinfo.under(tmp.toString()));
    }

    private void work(Client c, int thread, Random rnd, AtomicBoolean killed, Map<Integer, Op> inFlight, AtomicReference<Throwable> failure) {
        String prefix = "t" + thread + "-";
        while (!killed.get()) {
            int i = seq.incrementAndGet();
            List<String> mine = model.keySet().stream().filter(k -> k.startsWith(prefix)).sorted().toList();
            List<String> committed = new ArrayList<>(model.entrySet().stream()
                    .filter(e -> e.getValue().kind() == Kind.COMMITTED && (e.getKey().equals("base") || e.getKey().startsWith(prefix)))
                    .map(Map.Entry::getKey).sorted().toList());
            List<String> actives = mine.stream().filter(k -> model.get(k).kind() == Kind.ACTIVE).toList();
            List<String> leaves = mine.stream().filter(k -> model.values().stream().noneMatch(e -> e.parent().equals(k))).toList();
            int dice = rnd.nextInt(100);
            Op op;
            if (mine.size() > 24 && !leaves.isEmpty()) dice = 80;
            String parent = committed.get(rnd.nextInt(committed.size()));
            if (dice < 30) op = new Op("prepare", prefix + i, null, parent, Map.of("n", Integer.toString(i)));
            else if (dice < 55 && !actives.isEmpty()) op = new Op("commit", actives.get(rnd.nextInt(actives.size())), prefix + "c" + i, null, Map.of());
            else if (dice < 65) op = new Op("view", prefix + "v" + i, null, parent, Map.of());
            else if (dice < 90 && !leaves.isEmpty()) op = new Op("remove", leaves.get(rnd.nextInt(leaves.size())), null, null, null);
            else if (!mine.isEmpty()) op = new Op("update", mine.get(rnd.nextInt(mine.size())), null, null, Map.of("u", Integer.toString(i)));
            else op = new Op("prepare", prefix + i, null, parent, Map.of());
            inFlight.put(thread, op);
            try {
                apply(c, op);
            } catch (StatusRuntimeException e) {
                if (!killed.get()) failure.compareAndSet(null, new AssertionError(op + " failed while the server ran", e));
                return; // in flight when the server died: verify decides what it did
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                return;
            }
            inFlight.remove(thread);
        }
    }

    private void apply(Client c, Op op) throws Exception {
        switch (op.type()) {
            case "prepare" -> {
                List<Mount> m = c.prepare(op.key(), op.parent(), op.labels());
                model.put(op.key(), new Expect(Kind.ACTIVE, op.parent(), op.labels(), false));
                Files.writeString(upper(m).resolve("marker"), op.key());
                model.put(op.key(), new Expect(Kind.ACTIVE, op.parent(), op.labels(), true));
            }
            case "view" -> {
                c.view(op.key(), op.parent());
                model.put(op.key(), new Expect(Kind.VIEW, op.parent(), Map.of(), false));
            }
            case "commit" -> {
                c.commit(op.name(), op.key());
                Expect a = model.remove(op.key());
                model.put(op.name(), new Expect(Kind.COMMITTED, a.parent(), Map.of(), false));
            }
            case "remove" -> {
                c.remove(op.key());
                model.remove(op.key());
            }
            case "update" -> {
                c.update(op.key(), op.labels(), "labels");
                model.computeIfPresent(op.key(), (k, e) -> e.withLabels(op.labels()));
            }
            default -> throw new IllegalStateException(op.type());
        }
    }

    /** Checks the restarted server against the model, settling each call that was in flight one way or the other. */
    private void verify(Client c, Path root, Iterable<Op> inFlight, String context) throws Exception {
        Map<String, Expect> actual = new HashMap<>();
        for (Info i : c.list()) actual.put(i.getName(), new Expect(i.getKind(), i.getParent(), i.getLabelsMap(), false));
        for (Op op : inFlight) {
            Map<String, Expect> before = Map.copyOf(model);
            Map<String, Expect> after = new HashMap<>(model);
            switch (op.type()) {
                case "prepare" -> after.put(op.key(), new Expect(Kind.ACTIVE, op.parent(), op.labels(), false));
                case "view" -> after.put(op.key(), new Expect(Kind.VIEW, op.parent(), Map.of(), false));
                case "commit" -> after.put(op.name(), new Expect(Kind.COMMITTED, after.remove(op.key()).parent(), Map.of(), false));
                case "remove" -> after.remove(op.key());
                case "update" -> after.computeIfPresent(op.key(), (k, e) -> e.withLabels(op.labels()));
                default -> throw new IllegalStateException(op.type());
            }
            List<String> touched = List.of(op.key(), op.name() == null ? op.key() : op.name());
            boolean asBefore = touched.stream().allMatch(k -> same(before.get(k), actual.get(k)));
            boolean asAfter = touched.stream().allMatch(k -> same(after.get(k), actual.get(k)));
            assertTrue(asBefore || asAfter, context + ": " + op + " left neither the state before nor after it: "
                    + touched.stream().map(k -> k + "=" + actual.get(k)).toList());
            if (asAfter && !asBefore) {
                model.clear();
                model.putAll(after);
            }
        }
        assertEquals(new java.util.TreeSet<>(model.keySet()), new java.util.TreeSet<>(actual.keySet()), context + ": the snapshots");
        for (var e : model.entrySet()) {
            assertTrue(same(e.getValue(), actual.get(e.getKey())), context + ": " + e.getKey() + " is " + actual.get(e.getKey()) + ", not " + e.getValue());
            if (e.getValue().kind() == Kind.ACTIVE && e.getValue().marked()) {
                assertEquals(e.getKey(), Files.readString(upper(c.mounts(e.getKey())).resolve("marker")), context + ": what was written into " + e.getKey());
            }
        }
        long withLayers = model.values().stream().filter(e -> e.kind() != Kind.VIEW).count();
        assertEquals(withLayers, layers(root).size(), context + ": one layer per active or committed snapshot, no orphan: " + layers(root));
    }

    private static boolean same(Expect want, Expect got) {
        if (want == null || got == null) return want == got;
        return want.kind() == got.kind() && want.parent().equals(got.parent()) && want.labels().equals(got.labels());
    }

    /** The directory whose content is the active snapshot's own. */
    private static Path upper(List<Mount> m) {
        Mount mount = m.getFirst();
        if (mount.getType().equals("bind")) return Path.of(mount.getSource());
        return Path.of(mount.getOptionsList().stream().filter(o -> o.startsWith("upperdir=")).findFirst().orElseThrow().substring(9));
    }

    private static List<String> layers(Path root) throws Exception {
        try (var s = Files.list(root.resolve("overlay"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(Snapshotter.LAYER_PREFIX)).sorted().toList();
        }
    }

}
