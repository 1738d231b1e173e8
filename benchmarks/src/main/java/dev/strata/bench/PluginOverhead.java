package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.api.CreateOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Kernel;
import dev.strata.plugin.PluginServer;
import dev.strata.snapshotter.Snapshotter;
import dev.strata.snapshotter.SnapshotterServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.strata.bench.Comparison.Goal;
import static dev.strata.bench.Comparison.Metric;

/**
 * What a request over the graphdriver plugin socket adds to the same driver call made in-process, as a
 * {@link Comparison}: this JVM serves a driver on a socket ({@link PluginServer}, as {@code strata plugin serve}
 * does) and also opens the same driver in-process on a root of its own, both on one scratch filesystem. The socket
 * side is {@code benchmarks/peers/plugin-client} in a process per block, with one kept-alive connection: moby 20.10's
 * own plugin client (what dockerd calls a plugin through), and a raw HTTP/1.1 client (what the server alone adds,
 * without the Go HTTP client's own goroutine hops). The in-process side makes the same calls in this JVM. Both do the
 * same untimed calls first. Calls: Exists of a layer; and Create of a child of an empty layer, Get (an overlay mount
 * with one lower), Put, Remove. A last case sets Strata's server against a Go net/http stub that answers at once
 * from memory, both through moby's client: the floor of Go's own HTTP stack on this machine.
 *
 * <p>What moby's client itself costs, over the raw client: both clients against the same server, in the same run, on
 * Strata's server (Exists) and on a minimal Go server without an HTTP library ({@code plugin-client -serve-minimal}):
 * Exists answered at once, and the lifecycle calls answered after {@value #MINIMAL_DELAY} as a disk call would be
 * (the client's goroutines park while they wait, and each reply then wakes them). The same difference on a server
 * that does nothing is the client's own cost, which no server can remove. And the floor of any server: the same
 * calls in this JVM handed to another thread (a synchronous queue there and back) against the same calls made on the
 * timing thread.
 *
 * <p>What serving costs a real Go driver of the same work, through the same client ({@code served}): moby's own
 * overlay2 (the code {@code OverlayVsMoby} times) served on a socket of its own by {@code plugin-client -serve-overlay2}
 * as a plugin built on docker/go-plugins-helpers serves a moby driver (Go's net/http, a handler per GraphDriver
 * method), its home on the same scratch filesystem. Three lifecycle cases, each side through moby's client in a process
 * per block with one kept-alive connection, all warmed the same way ({@code PLUGIN_WARMUP}), N and WARMUP a quarter:
 * Strata's server against moby's overlay2 served (per-op times, their ratio); moby's overlay2 served against the same
 * driver called in-process in a {@code plugin-client -client in-process} process (what serving adds to moby's driver,
 * as the {@code plugin} rows give it for Strata's); and Strata's server against a Go net/http stub that answers each
 * call after as long as Strata's driver took for it in-process just before, in the same block (what Strata's server
 * takes over a Go server whose driver is exactly as fast as Strata's).
 *
 * <p>The containerd snapshotter the same way: this JVM serves a {@link Snapshotter} of the driver on a socket
 * ({@link SnapshotterServer}, as {@code strata snapshotter serve} does) and opens a second one in-process. The socket
 * side is {@code roundbench -no-mount} (snapshotter-server/go) in a process per block: containerd 1.6's proxy client
 * over gRPC, one connection, the snapshot round without its mount (Prepare on a committed base, Mounts, Commit,
 * Remove; Cleanup untimed after each block). The in-process side makes the same calls on the other snapshotter. A last
 * snapshot case sets Strata's server against containerd's own overlayfs snapshotter behind its snapshotservice
 * (snapshotter-server/go's refserver, grpc-go), the same client on both: what any server costs that client here.
 *
 * <p>Every block first runs its untimed warm-up: WARMUP rounds of what it times (a quarter of it where N is quartered
 * too, as in the snapshot cases). The snapshotter server's request path compiles with C2 only after some thousands of rounds
 * (benchmarks/README.md, "Warm-up"), so before the first block of each snapshot side come {@code SNAPSHOT_WARMUP}
 * (env, default {@value #SNAPSHOT_WARMUP}, as {@code scripts/bench-snapshotter}'s) untimed rounds more, in
 * {@value #WARMUP_SESSIONS} sessions as a block is one: on the socket a roundbench process each (a connection, its base
 * layer, its rounds, Cleanup), in-process a base layer, rounds and Cleanup each. A block's own start and end (a new
 * connection, a Prepare without a parent, Cleanup) take branches the rounds never do: after one session of 8,000 rounds
 * the server's C2 code hit uncommon traps at each of the next four blocks and recompiled 30-180 methods in each, the
 * compiler thread using 1.3-1.8 ms of CPU per timed round, more than the serving threads; the other cases' blocks keep
 * their length. The plugin cases' sides the same way: {@code PLUGIN_WARMUP} (env, default {@value #PLUGIN_WARMUP}) calls or
 * rounds more before the first block of each socket side (in {@value #WARMUP_SESSIONS} client processes) and of the
 * in-process side (on this thread): the server's HTTP and driver paths still compiled during the first runs' timed
 * blocks without it, the compiler thread taking a core's share of a 2-core machine beside the server.
 *
 * <p>{@code CASES} (env, a comma list; default {@code plugin,snapshot,floors}) chooses the groups: {@code plugin} (the graphdriver socket against
 * in-process), {@code snapshot} (the snapshotter socket against in-process, and against containerd's snapshotservice),
 * {@code floors} (the Go stub, the thread hand-off, moby's client against the raw one), {@code served} (moby's overlay2
 * served, and the stub taking Strata's in-process time).
 *
 * <pre>[SNAPSHOT_WARMUP=R] [PLUGIN_WARMUP=R] [CASES=plugin,snapshot,floors,served] scripts/bench PluginOverhead [DRIVER] [RUNS] [N] [WARMUP] [tmpfs|ext4]   (defaults: overlay 5 2000 2000 ext4)</pre>
 */
public final class PluginOverhead {
    private static final Goal ADDS_AT_MOST_200_US = Goal.ratio(200, Double.NaN);
    private static final List<String> SNAPSHOT_OPS = List.of("prepare", "mounts", "commit", "remove");
    private static final List<String> LIFECYCLE_OPS = List.of("create", "get", "put", "remove");
    /** How long the minimal server waits before answering a lifecycle call: of the order of the driver's own calls. */
    static final String MINIMAL_DELAY = "1ms";
    /** The snapshot sides' extra warm-up before their first block, in rounds: as {@code scripts/bench-snapshotter}'s. */
    static final int SNAPSHOT_WARMUP = 8000;
    /** The groups of cases {@code CASES} chooses from: a shared machine's lock hold fits one or two, not all. */
    static final List<String> CASE_GROUPS = List.of("plugin", "snapshot", "floors", "served");
    /** The groups run without {@code CASES}: {@code served} adds ~3.5 minutes to their ~5, more than one lock hold should take. */
    static final List<String> DEFAULT_CASES = List.of("plugin", "snapshot", "floors");
    /** How many sessions the snapshot and plugin sides' extra warm-up is made in. */
    static final int WARMUP_SESSIONS = 8;
    /**
     * The plugin cases' sides' extra warm-up before their first block, in rounds (calls for Exists). Without it the
     * server's code was still compiling in the first runs' timed blocks: served alone under moby's client, blocks of
     * 1,000+1,000 lifecycle rounds, the C2 thread used 554, 312, 126, 146, 51, 52, then ~0 µs of CPU per request in
     * blocks 1-7 (3,814 compiles in block 1, 5-16 from block 6), beside ~400 µs of the serving thread's own.
     */
    static final int PLUGIN_WARMUP = 8000;

    private PluginOverhead() {
    }

    public static void main(String[] args) throws Exception {
        String driver = args.length > 0 ? args[0] : "overlay";
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : Comparison.MIN_RUNS;
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
        String backing = args.length > 4 ? args[4] : "ext4";
        int snapshotWarmup = Integer.parseInt(OverlayVsMoby.env("SNAPSHOT_WARMUP", Integer.toString(SNAPSHOT_WARMUP)));
        int pluginWarmup = Integer.parseInt(OverlayVsMoby.env("PLUGIN_WARMUP", Integer.toString(PLUGIN_WARMUP)));
        Set<String> cases = Set.of(OverlayVsMoby.env("CASES", String.join(",", DEFAULT_CASES)).split(","));
        if (!CASE_GROUPS.containsAll(cases)) throw new IllegalArgumentException("CASES: a comma list of " + CASE_GROUPS + ", not " + cases);
        if (!Kernel.isRoot()) throw new IllegalStateException("must run as root (mounts)");
        Path client = VsMoby.buildPeer(Path.of("").toAbsolutePath(), "plugin-client");
        Comparison c = new Comparison("graphdriver plugin and snapshotter sockets against in-process, " + driver + " on " + backing, runs, null);
        long connections;
        try (BenchMount m = backing.equals("tmpfs") ? BenchMount.tmpfs("2g") : BenchMount.ext4(4L << 30)) {
            DriverRegistry registry = DriverRegistry.load();
            StorageDriver local = registry.open(registry.require(driver), m.mount.resolve("in-process"), List.of());
            Path home = m.mount.resolve("served");
            Path socket = m.mount.resolve("plugin.sock"), stubSocket = m.mount.resolve("stub.sock");
            Path minimalSocket = m.mount.resolve("minimal.sock"), waitingSocket = m.mount.resolve("minimal-waiting.sock");
            Process refServer = null;
            Path mobySocket = m.mount.resolve("moby-overlay2.sock");
            Process mobyServer = cases.contains("served") ? serveInBackground(client.toString(), "-serve-overlay2", mobySocket.toString()) : null;
            Process stub = serveInBackground(client.toString(), "-serve", stubSocket.toString());
            Process minimal = serveInBackground(client.toString(), "-serve-minimal", minimalSocket.toString());
            Process waiting = serveInBackground(client.toString(), "-serve-minimal", waitingSocket.toString(), MINIMAL_DELAY);
            try (PluginServer server = PluginServer.start(new PluginServer.Config(socket, driver, List.of(), registry,
                    System.getenv(), Duration.ofSeconds(20))); HandOff handOff = new HandOff()) {
                local.create("base", null, CreateOptions.NONE);
                Comparison.Side exists = inProcessSide(local, "exists", n, warmup), lifecycle = inProcessSide(local, "lifecycle", n, warmup);
                Comparison.Side warmExists = firstWarmed(exists, local, "exists", pluginWarmup);
                Comparison.Side warmLifecycle = firstWarmed(lifecycle, local, "lifecycle", pluginWarmup);
                for (String kind : List.of("moby", "raw")) {
                    String label = kind.equals("moby") ? "moby's plugin client" : "raw client";
                    add(c, cases, "plugin", new Comparison.Case("exists, " + label, List.of(socketSide("socket", client, socket, home, "exists", kind, n, warmup,
                            pluginWarmup), warmExists), List.of(Metric.added("exists", "Exists, µs added", ADDS_AT_MOST_200_US)), Comparison.Prepare.NOTHING));
                    List<Metric> added = new ArrayList<>();
                    for (String p : LIFECYCLE_OPS) added.add(Metric.added(p, p + ", µs added", ADDS_AT_MOST_200_US));
                    add(c, cases, "plugin", new Comparison.Case("lifecycle, " + label, List.of(socketSide("socket", client, socket, home, "lifecycle", kind, n, warmup,
                            pluginWarmup), warmLifecycle), added, Comparison.Prepare.NOTHING));
                }
                Path snapSocket = m.mount.resolve("snapshotter.sock");
                try (SnapshotterServer snapServer = SnapshotterServer.start(snapSocket, snapshotter(registry, driver, m.mount.resolve("snap-served")),
                        Duration.ofSeconds(20)); Snapshotter snapLocal = snapshotter(registry, driver, m.mount.resolve("snap-in-process"))) {
                    Path roundbench = buildRoundbench(m.mount.resolve("gobin"));
                    List<Metric> added = new ArrayList<>(), times = new ArrayList<>();
                    for (String p : SNAPSHOT_OPS) added.add(Metric.added(p, "snapshot " + p + ", µs added", ADDS_AT_MOST_200_US));
                    for (String p : SNAPSHOT_OPS) times.add(Metric.time(p, "snapshot " + p + ", µs", null));
                    add(c, cases, "snapshot", new Comparison.Case("snapshot round, containerd's proxy client", List.of(
                            snapshotSocketSide("socket", roundbench, snapSocket, m.mount, n / 4, warmup / 4, snapshotWarmup),
                            snapshotInProcessSide(snapLocal, n / 4, warmup / 4, snapshotWarmup)), added, Comparison.Prepare.NOTHING));
                    Path refSocket = m.mount.resolve("ref.sock");
                    refServer = new ProcessBuilder(roundbench.resolveSibling("refserver").toString(), "-socket", refSocket.toString(),
                            "-root", m.mount.resolve("snap-ref").toString()).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    while (!Files.exists(refSocket) && refServer.isAlive()) Thread.sleep(20);
                    add(c, cases, "snapshot", new Comparison.Case("snapshot round, containerd's proxy client: Strata's server against containerd's snapshotservice",
                            List.of(snapshotSocketSide("Strata's server", roundbench, snapSocket, m.mount, n / 4, warmup / 4, snapshotWarmup),
                                    snapshotSocketSide("containerd's overlayfs via snapshotservice", roundbench, refSocket, m.mount, n / 4,
                                            warmup / 4, snapshotWarmup)),
                            times, Comparison.Prepare.NOTHING));
                    while (!Files.exists(stubSocket) && stub.isAlive()) Thread.sleep(20);
                    add(c, cases, "floors", new Comparison.Case("exists, moby's client: Strata's server against a Go stub", List.of(
                            socketSide("Strata's server", client, socket, home, "exists", "moby", n, warmup),
                            socketSide("Go net/http stub", client, stubSocket, home, "exists", "moby", n, warmup)),
                            List.of(Metric.time("exists", "Exists, µs", null)), Comparison.Prepare.NOTHING));
                    while (!Files.exists(minimalSocket) && minimal.isAlive()) Thread.sleep(20);
                    while (!Files.exists(waitingSocket) && waiting.isAlive()) Thread.sleep(20);
                    add(c, cases, "floors", new Comparison.Case("exists, in-process: handed to another thread", List.of(
                            inProcessSide("handed to another thread", local, "exists", n, warmup, handOff), exists),
                            List.of(Metric.added("exists", "Exists, µs a thread hand-off adds", null)), Comparison.Prepare.NOTHING));
                    List<Metric> handOffAdds = new ArrayList<>();
                    for (String p : LIFECYCLE_OPS) handOffAdds.add(Metric.added(p, p + ", µs a thread hand-off adds", null));
                    add(c, cases, "floors", new Comparison.Case("lifecycle, in-process: handed to another thread", List.of(
                            inProcessSide("handed to another thread", local, "lifecycle", n / 4, warmup / 4, handOff),
                            inProcessSide("in-process", local, "lifecycle", n / 4, warmup / 4, Runnable::run)),
                            handOffAdds, Comparison.Prepare.NOTHING));
                    String clientCost = "µs moby's client adds over the raw client";
                    add(c, cases, "floors", new Comparison.Case("exists, Strata's server: moby's client against the raw client", List.of(
                            socketSide("moby's plugin client", client, socket, home, "exists", "moby", n, warmup),
                            socketSide("raw client", client, socket, home, "exists", "raw", n, warmup)),
                            List.of(Metric.added("exists", "Exists, " + clientCost, null)), Comparison.Prepare.NOTHING));
                    add(c, cases, "floors", new Comparison.Case("exists, a minimal Go server: moby's client against the raw client", List.of(
                            socketSide("moby's plugin client", client, minimalSocket, home, "exists", "moby", n, warmup),
                            socketSide("raw client", client, minimalSocket, home, "exists", "raw", n, warmup)),
                            List.of(Metric.added("exists", "Exists, " + clientCost, null)), Comparison.Prepare.NOTHING));
                    List<Metric> clientAdds = new ArrayList<>();
                    for (String p : LIFECYCLE_OPS) clientAdds.add(Metric.added(p, p + ", " + clientCost, null));
                    add(c, cases, "floors", new Comparison.Case("lifecycle, a minimal Go server answering after " + MINIMAL_DELAY
                            + ": moby's client against the raw client", List.of(
                            socketSide("moby's plugin client", client, waitingSocket, home, "lifecycle", "moby", n / 4, warmup / 4),
                            socketSide("raw client", client, waitingSocket, home, "lifecycle", "raw", n / 4, warmup / 4)),
                            clientAdds, Comparison.Prepare.NOTHING));
                    if (mobyServer != null) {
                        while (!Files.exists(mobySocket) && mobyServer.isAlive()) Thread.sleep(20);
                        List<Metric> lifecycleTimes = new ArrayList<>(), servingAdds = new ArrayList<>();
                        for (String p : LIFECYCLE_OPS) lifecycleTimes.add(Metric.time(p, p + ", µs", null));
                        for (String p : LIFECYCLE_OPS) servingAdds.add(Metric.added(p, p + ", µs serving adds to moby's overlay2", null));
                        // a side in two cases is one object: its warm-up is made once
                        Comparison.Side mobyServed = socketSide("moby's overlay2 served in Go", client, mobySocket, m.mount.resolve("moby-served"),
                                "lifecycle", "moby", n / 4, warmup / 4, pluginWarmup);
                        Comparison.Side strataServed = socketSide("Strata's server", client, socket, home, "lifecycle", "moby", n / 4, warmup / 4, pluginWarmup);
                        add(c, cases, "served", new Comparison.Case("lifecycle, moby's plugin client: Strata's server against moby's overlay2 served in Go",
                                List.of(strataServed, mobyServed), lifecycleTimes, Comparison.Prepare.NOTHING));
                        add(c, cases, "served", new Comparison.Case("lifecycle: what serving adds to moby's overlay2", List.of(mobyServed,
                                socketSide("moby's overlay2 in-process", client, null, m.mount.resolve("moby-in-process"), "lifecycle", "in-process",
                                        n / 4, warmup / 4, pluginWarmup)), servingAdds, Comparison.Prepare.NOTHING));
                        List<Metric> overStub = new ArrayList<>();
                        for (String p : LIFECYCLE_OPS) overStub.add(Metric.added(p, p + ", µs Strata's server takes over the stub", null));
                        add(c, cases, "served", new Comparison.Case("lifecycle, moby's plugin client: Strata's server against a Go stub taking Strata's in-process time",
                                List.of(strataServed, takingStubSide(client, m.mount.resolve("taking-stub.sock"), home, local, n / 4, warmup / 4, pluginWarmup)),
                                overStub, Comparison.Prepare.NOTHING));
                    }
                    c.run();
                }
                connections = server.connectionsAccepted();
            } finally {
                if (refServer != null) refServer.destroy();
                stub.destroy();
                if (mobyServer != null) {
                    mobyServer.destroy(); // SIGTERM: it unmounts what its driver left mounted, before the scratch filesystem goes
                    mobyServer.waitFor(20, TimeUnit.SECONDS);
                }
                minimal.destroy();
                waiting.destroy();
                local.remove("base");
                local.close();
            }
        }
        c.print();
        System.out.printf("%nConnections Strata's server accepted: %d, for %d client processes (each keeps one connection for its calls; "
                + "moby's client opens a second when a reply is not read to its end, as for Init, and at times a third when a call "
                + "starts before Go's transport has put the connection back in its pool).%n", connections,
                runs * ((cases.contains("plugin") ? 4 : 0) + (cases.contains("floors") ? 3 : 0) + (cases.contains("served") ? 2 : 0)));
        System.out.printf("SNAPSHOT_WARMUP=%d PLUGIN_WARMUP=%d CASES=%s scripts/bench PluginOverhead %s %d %d %d %s%n", snapshotWarmup, pluginWarmup,
                String.join(",", CASE_GROUPS.stream().filter(cases::contains).toList()), driver, runs, n, warmup, backing);
    }

    private static void add(Comparison c, Set<String> cases, String group, Comparison.Case k) {
        if (cases.contains(group)) c.add(k);
    }

    /** A snapshotter of its own driver, as {@code strata --root ROOT snapshotter serve} opens it. */
    private static Snapshotter snapshotter(DriverRegistry registry, String driver, Path root) {
        DriverProvider p = registry.require(driver);
        return Snapshotter.open(registry.open(p, root, List.of()), root.resolve("snapshots").resolve(p.name()));
    }

    private static Path buildRoundbench(Path out) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("snapshotter-server/go/build", out.toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (p.waitFor() != 0) throw new IOException("snapshotter-server/go/build failed");
        return out.resolve("roundbench");
    }

    /** A Go server of plugin-client's, its output dropped; the caller waits for its socket. */
    private static Process serveInBackground(String... command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /**
     * roundbench's snapshot round without its mount, over the socket: one process, one connection per block; before
     * the first block, {@code firstWarmup} rounds more in {@value #WARMUP_SESSIONS} processes.
     */
    private static Comparison.Side snapshotSocketSide(String name, Path roundbench, Path socket, Path dir, int n, int warmup, int firstWarmup) {
        return new Comparison.Side() {
            private boolean warm;

            @Override
            public String name() {
                return name;
            }

            @Override
            public Map<String, Double> measure(int run) throws Exception {
                if (!warm) {
                    for (int s = 0; s < WARMUP_SESSIONS; s++) {
                        phases(roundbench.toString(), "-a", socket.toString(), "-runs", "1", "-rounds", "1",
                                "-warmup", Integer.toString(firstWarmup / WARMUP_SESSIONS), "-dir", dir.toString(), "-no-mount", "-json");
                    }
                    warm = true;
                }
                JsonNode phases = phases(roundbench.toString(), "-a", socket.toString(), "-runs", "1", "-rounds", Integer.toString(n),
                        "-warmup", Integer.toString(warmup), "-dir", dir.toString(), "-no-mount", "-json");
                Map<String, Double> v = new LinkedHashMap<>();
                for (String op : SNAPSHOT_OPS) v.put(op, phases.path(op).path("median_us").asDouble());
                return v;
            }
        };
    }

    /**
     * The same round on a snapshotter in this JVM: a committed empty base, then Prepare, Mounts, Commit, Remove; before
     * the first block, {@code firstWarmup} rounds more in {@value #WARMUP_SESSIONS} sessions, as the socket side's.
     */
    private static Comparison.Side snapshotInProcessSide(Snapshotter sn, int n, int warmup, int firstWarmup) {
        return new Comparison.Side() {
            private final AtomicInteger seq = new AtomicInteger();
            private boolean warm;

            @Override
            public String name() {
                return "in-process";
            }

            @Override
            public Map<String, Double> measure(int run) {
                if (!warm) {
                    for (int s = 0; s < WARMUP_SESSIONS; s++) snapshotRounds(sn, seq, firstWarmup / WARMUP_SESSIONS, 0);
                    warm = true;
                }
                Map<String, Double> v = new LinkedHashMap<>();
                snapshotRounds(sn, seq, warmup, n).forEach((op, times) -> v.put(op, Comparison.medianMicros(times)));
                return v;
            }
        };
    }

    /** One session of roundbench's round in-process: a base layer, {@code warmup} untimed rounds, {@code n} timed ones. */
    private static Map<String, List<Long>> snapshotRounds(Snapshotter sn, AtomicInteger seq, int warmup, int n) {
        String base = "roundbench-base";
        sn.prepare(base + "-active", "", Map.of());
        sn.commit(base, base + "-active", Map.of());
        Map<String, List<Long>> t = new LinkedHashMap<>();
        for (String op : SNAPSHOT_OPS) t.put(op, new ArrayList<>());
        for (int i = -warmup; i < n; i++) {
            int k = seq.incrementAndGet();
            String key = "roundbench-active-" + k, name = "roundbench-layer-" + k;
            long a = timed(() -> sn.prepare(key, base, Map.of()));
            long b = timed(() -> sn.mounts(key));
            long c = timed(() -> sn.commit(name, key, Map.of()));
            long d = timed(() -> sn.remove(name));
            if (i >= 0) {
                t.get("prepare").add(a);
                t.get("mounts").add(b);
                t.get("commit").add(c);
                t.get("remove").add(d);
            }
            if (i == -1) sn.cleanup(); // as roundbench: Cleanup after its warm-up and after the block, untimed
        }
        sn.remove(base);
        sn.cleanup();
        return t;
    }

    private static Comparison.Side socketSide(String name, Path client, Path socket, Path home, String op, String kind, int n, int warmup) {
        return socketSide(name, client, socket, home, op, kind, n, warmup, 0);
    }

    /**
     * A plugin client process per block; before the first, {@code firstWarmup} calls or rounds more in {@value #WARMUP_SESSIONS} processes.
     * With {@code kind} in-process, {@code socket} is null and the calls go to moby's overlay2 in the client's process.
     */
    private static Comparison.Side socketSide(String name, Path client, Path socket, Path home, String op, String kind, int n, int warmup,
                                              int firstWarmup) {
        return new Comparison.Side() {
            private boolean warm = firstWarmup == 0;

            @Override
            public String name() {
                return name;
            }

            @Override
            public Map<String, Double> measure(int run) throws Exception {
                if (!warm) {
                    for (int s = 0; s < WARMUP_SESSIONS; s++) phases(command(1, firstWarmup / WARMUP_SESSIONS));
                    warm = true;
                }
                JsonNode phases = phases(command(n, warmup));
                Map<String, Double> v = new LinkedHashMap<>();
                phases.properties().forEach(e -> v.put(e.getKey(), e.getValue().path("median_us").asDouble()));
                return v;
            }

            private String[] command(int timed, int untimed) {
                List<String> cmd = new ArrayList<>(List.of(client.toString(), "-home", home.toString(), "-op", op, "-client", kind,
                        "-n", Integer.toString(timed), "-warmup", Integer.toString(untimed)));
                if (socket != null) cmd.addAll(List.of("-socket", socket.toString()));
                return cmd.toArray(String[]::new);
            }
        };
    }

    /**
     * Go's net/http stub ({@code plugin-client -serve}) answering each lifecycle call after as long as Strata's driver
     * took for it in-process, timed through moby's client: a server in Go whose driver is exactly as fast as Strata's.
     * Each block first times the lifecycle in-process on {@code local} (as the in-process side does), then serves the
     * stub with those medians and times the client against it; before the first block, {@code firstWarmup} rounds
     * more in-process and on the stub, as the socket sides'.
     */
    private static Comparison.Side takingStubSide(Path client, Path socket, Path home, StorageDriver local, int n, int warmup, int firstWarmup) {
        Comparison.Side onStub = socketSide("stub", client, socket, home, "lifecycle", "moby", n, warmup, firstWarmup);
        return new Comparison.Side() {
            private boolean warm = firstWarmup == 0;

            @Override
            public String name() {
                return "Go stub taking Strata's in-process time";
            }

            @Override
            public Map<String, Double> measure(int run) throws Exception {
                if (!warm) {
                    for (int s = 0; s < WARMUP_SESSIONS; s++) inProcess(local, "lifecycle", 1, firstWarmup / WARMUP_SESSIONS, Runnable::run);
                    warm = true;
                }
                Map<String, Double> took = inProcess(local, "lifecycle", n, warmup, Runnable::run);
                List<String> delays = new ArrayList<>(), shown = new ArrayList<>();
                took.forEach((op, us) -> delays.add(op + "=" + Math.round(us * 1000) + "ns"));
                took.forEach((op, us) -> shown.add(op + " " + Math.round(us)));
                System.err.println("run " + run + ": the stub takes Strata's in-process medians, µs: " + String.join(", ", shown));
                Process stub = serveInBackground(client.toString(), "-serve", socket.toString(), String.join(",", delays));
                try {
                    while (!Files.exists(socket) && stub.isAlive()) Thread.sleep(20);
                    return onStub.measure(run);
                } finally {
                    stub.destroy();
                    stub.waitFor(20, TimeUnit.SECONDS);
                    Files.deleteIfExists(socket); // killed, it leaves its socket file, which the next block's wait would take for a listener
                }
            }
        };
    }

    /** Runs a Go client that prints one JSON line and returns its {@code phases}. */
    private static JsonNode phases(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(Path.of(command[0]).getFileName() + " failed: " + line);
        }
        return new ObjectMapper().readTree(line).path("phases");
    }

    /** {@code side}, with {@code firstWarmup} calls or rounds more on {@code d} in-process before its first block, as the socket sides'. */
    private static Comparison.Side firstWarmed(Comparison.Side side, StorageDriver d, String op, int firstWarmup) {
        return new Comparison.Side() {
            private boolean warm = firstWarmup == 0;

            @Override
            public String name() {
                return side.name();
            }

            @Override
            public Map<String, Double> measure(int run) throws Exception {
                if (!warm) {
                    for (int s = 0; s < WARMUP_SESSIONS; s++) inProcess(d, op, 1, firstWarmup / WARMUP_SESSIONS, Runnable::run);
                    warm = true;
                }
                return side.measure(run);
            }
        };
    }

    private static Comparison.Side inProcessSide(StorageDriver d, String op, int n, int warmup) {
        return inProcessSide("in-process", d, op, n, warmup, Runnable::run);
    }

    private static Comparison.Side inProcessSide(String name, StorageDriver d, String op, int n, int warmup, Caller caller) {
        return new Comparison.Side() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Map<String, Double> measure(int run) {
                return inProcess(d, op, n, warmup, caller);
            }
        };
    }

    /** How the in-process side makes a call: on the timing thread, or handed to another ({@link HandOff}). */
    @FunctionalInterface
    private interface Caller {
        void call(Runnable r);
    }

    /**
     * A thread the calls are handed to and whose answer the caller waits for, in this JVM: no socket, no HTTP, no JSON.
     * What it adds to a call is the floor of any server in another thread or process on this machine: the waiting
     * thread sleeps through the call and must be woken, and the call runs on a thread that was itself woken for it.
     */
    private static final class HandOff implements Caller, AutoCloseable {
        private final SynchronousQueue<Runnable> calls = new SynchronousQueue<>();
        /** {@link #OK}, or the call's RuntimeException. */
        private final SynchronousQueue<Object> done = new SynchronousQueue<>();
        private static final Object OK = new Object();
        private final Thread worker = Thread.ofPlatform().daemon().name("hand-off").start(() -> {
            try {
                while (true) {
                    Runnable r = calls.take();
                    Object failure = OK;
                    try {
                        r.run();
                    } catch (RuntimeException e) {
                        failure = e;
                    }
                    done.put(failure);
                }
            } catch (InterruptedException stop) {
                // closed
            }
        });

        @Override
        public void call(Runnable r) {
            try {
                calls.put(r);
                if (done.take() instanceof RuntimeException failure) throw failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }

        @Override
        public void close() {
            worker.interrupt();
        }
    }

    /** The client's calls, made on the driver directly. */
    private static Map<String, Double> inProcess(StorageDriver d, String op, int n, int warmup, Caller caller) {
        if (op.equals("exists")) {
            List<Long> t = new ArrayList<>();
            for (int i = -warmup; i < n; i++) {
                long dt = timed(() -> caller.call(() -> {
                    if (!d.exists("base")) throw new IllegalStateException("base is missing");
                }));
                if (i >= 0) t.add(dt);
            }
            return Map.of("exists", Comparison.medianMicros(t));
        }
        List<Long> tc = new ArrayList<>(), tg = new ArrayList<>(), tp = new ArrayList<>(), tr = new ArrayList<>();
        for (int i = -warmup; i < n; i++) {
            String id = "lc-" + (i + warmup);
            long a = timed(() -> caller.call(() -> d.create(id, "base", CreateOptions.NONE)));
            long b = timed(() -> caller.call(() -> d.get(id, "")));
            long c = timed(() -> caller.call(() -> d.put(id)));
            long e = timed(() -> caller.call(() -> d.remove(id)));
            if (i >= 0) {
                tc.add(a);
                tg.add(b);
                tp.add(c);
                tr.add(e);
            }
        }
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("create", Comparison.medianMicros(tc));
        v.put("get", Comparison.medianMicros(tg));
        v.put("put", Comparison.medianMicros(tp));
        v.put("remove", Comparison.medianMicros(tr));
        return v;
    }

    private static long timed(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return System.nanoTime() - t0;
    }
}
