package dev.strata.e2e.containerd.bench;

import dev.strata.testsupport.Host;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.e2e.containerd.BuiltInSnapshotter;
import dev.strata.e2e.containerd.Containerd;
import dev.strata.e2e.containerd.ContainerdConfig;
import dev.strata.e2e.containerd.Dockerd;
import dev.strata.e2e.containerd.Engines;
import dev.strata.e2e.containerd.ProxiedOverlayfs;
import dev.strata.e2e.containerd.Snapshotter;
import dev.strata.e2e.containerd.StrataSnapshotter;
import dev.strata.e2e.containerd.TestImages;
import dev.strata.e2e.containerd.Workspace;
import dev.strata.nativeio.Kernel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmarks (not tests) of Strata's snapshotter in real engines, each against containerd's built-in overlayfs
 * measured in the same run on the same file system, through one containerd 2.1.9 that has both:
 * <ul>
 *   <li>{@code run}: {@code docker run --rm IMAGE true} on dockerd 28.5.2, one dockerd per snapshotter (goal: ratio
 *   &lt;= 1.1); the snapshotter's resident memory idle, at its peak during the run loop, and after;</li>
 *   <li>{@code unpack}: {@code ctr images import --snapshotter S} of a 500 MB / 10-layer image (goal: ratio &lt;= 1.0).</li>
 * </ul>
 * Fairness: both sides warmed the same way (page cache too); the order alternates every round (A B, B A, ...);
 * each round's ratio is of the two sides' medians in that round; the result is the median of the rounds' ratios
 * with their min and max; load average recorded at start and end. Optionally a third side, containerd's overlayfs
 * served through a proxy socket ({@code --proxy-reference}), shows what the proxy path alone costs.
 */
@Command(name = "engine-bench", mixinStandardHelpOptions = true)
public final class EngineBench implements Callable<Integer> {
    @Option(names = "--what", split = ",", description = "run, unpack (default: both)")
    List<String> what = List.of("run", "unpack");
    @Option(names = "--driver", description = "Strata's driver (default: overlay)")
    String driver = "overlay";
    @Option(names = "--subject", description = "what is measured against the reference: strata (default), proxy "
            + "(containerd's overlayfs through a proxy socket), or builtin:NAME (e.g. builtin:overlayfs, to check the "
            + "harness: both sides the same)")
    String subject = "strata";
    @Option(names = "--reference", description = "the built-in snapshotter compared against (default: overlayfs)")
    String reference = "overlayfs";
    @Option(names = "--rounds", description = "rounds, each with both sides (default: 6)")
    int rounds = 6;
    @Option(names = "--runs", description = "docker runs per side per round (default: 10)")
    int runs = 10;
    @Option(names = "--warmup", description = "untimed docker runs per side first (default: 5)")
    int warmup = 5;
    @Option(names = "--layers", description = "layers of the unpack image, busybox included (default: 10)")
    int layers = 10;
    @Option(names = "--layer-mb", description = "MB per layer (default: 50)")
    int layerMb = 50;
    @Option(names = "--tmpfs", description = "a tmpfs for everything instead of /tmp's file system")
    boolean tmpfs;
    @Option(names = "--proxy-reference", description = "also containerd's overlayfs through a proxy socket (needs Go)")
    boolean proxyReference;
    @Option(names = "--jvm-opt", description = "a JVM option for Strata's snapshotter, e.g. -Xmx64m (repeatable)")
    List<String> jvmOpts = new ArrayList<>();
    @Option(names = "--image-dir", description = "where the unpack image is built and kept (default: target/bench-images)")
    Path imageDir = Path.of("target", "bench-images");
    @Option(names = "--out", description = "JSON results (default: target/engine-bench-<time>.json)")
    Path out;

    private final ObjectNode json = new ObjectMapper().createObjectNode();

    /** One side of the comparison: a snapshotter, and in the run benchmark its own dockerd. */
    private record Side(String label, Snapshotter snapshotter) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new EngineBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (!Kernel.isRoot()) throw new IllegalStateException("needs root");
        String missing = Engines.CONTAINERD_2_1.whyMissing(true);
        if (missing == null && subject.equals("strata")) missing = StrataSnapshotter.whyUnavailable();
        if (missing == null && (proxyReference || subject.equals("proxy"))) missing = ProxiedOverlayfs.whyUnavailable();
        if (missing != null) throw new IllegalStateException(missing);
        if (out == null) out = Path.of("target", "engine-bench-" + Instant.now().toString().replace(':', '-') + ".json");

        json.put("date", Instant.now().toString());
        json.put("kernel", Kernel.release());
        json.put("driver", driver);
        json.put("reference", reference);
        json.put("backing", tmpfs ? "tmpfs" : "the file system of /tmp");
        json.put("loadavg_start", LoadAverage.now());
        System.out.println("load average at start: " + LoadAverage.now());

        try (Workspace ws = Workspace.create("bench", tmpfs ? "12g" : null)) {
            List<Side> sides = new ArrayList<>();
            sides.add(subject(ws));
            sides.add(new Side(reference, new BuiltInSnapshotter(reference)));
            if (proxyReference) sides.add(new Side(ProxiedOverlayfs.NAME, new ProxiedOverlayfs(ws.resolve("refserver"))));
            List<Dockerd> dockerds = new ArrayList<>();
            Containerd containerd = null;
            try {
                for (Side s : sides) s.snapshotter().start();
                // One registration per snapshotter name (a harness check has the same one on both sides).
                List<Snapshotter> distinct = new ArrayList<>();
                for (Side s : sides) if (distinct.stream().noneMatch(d -> d.name().equals(s.snapshotter().name()))) distinct.add(s.snapshotter());
                containerd = new Containerd(new ContainerdConfig(Engines.CONTAINERD_2_1, ws.resolve("containerd"), distinct, Optional.empty()),
                        ws.marker);
                containerd.start();
                if (what.contains("run")) runBench(ws, containerd, sides, dockerds);
                if (what.contains("unpack")) unpackBench(containerd, sides);
            } finally {
                for (Dockerd d : dockerds) {
                    d.removeAllContainers();
                    d.stop();
                }
                if (containerd != null) containerd.stop();
                for (Side s : sides) s.snapshotter().stop();
                List<String> leaks = ws.cleanUp(Path.of("target", "bench-logs"));
                if (!leaks.isEmpty()) System.out.println("left behind (removed now): " + leaks);
            }
        }
        json.put("loadavg_end", LoadAverage.now());
        System.out.println("load average at end: " + LoadAverage.now());
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), json);
        System.out.println("results: " + out);
        return 0;
    }

    /** The side measured against the reference. */
    private Side subject(Workspace ws) {
        if (subject.equals("strata")) return new Side("strata-" + driver, new StrataSnapshotter(ws.resolve("strata"), driver, List.of(), jvmOpts));
        if (subject.equals("proxy")) return new Side(ProxiedOverlayfs.NAME, new ProxiedOverlayfs(ws.resolve("refserver")));
        if (subject.startsWith("builtin:")) return new Side(subject, new BuiltInSnapshotter(subject.substring("builtin:".length())));
        throw new CommandLine.ParameterException(new CommandLine(this), "--subject: strata, proxy or builtin:NAME, not " + subject);
    }

    private void runBench(Workspace ws, Containerd containerd, List<Side> sides, List<Dockerd> dockerds) {
        Path layer = TestImages.busyboxLayer(ws.resolve("busybox.tar")).file();
        Map<String, Dockerd> byLabel = new LinkedHashMap<>();
        for (Side s : sides) {
            String id = s.label().replaceAll("[^A-Za-z0-9]+", "-"); // containerd namespaces are [A-Za-z0-9._-]
            Dockerd d = new Dockerd(containerd, ws.resolve("docker-" + id), s.snapshotter().name(), ws.marker + "-" + id);
            dockerds.add(d);
            d.start();
            d.dockerOk("import", layer.toString(), "bench/busybox:1");
            byLabel.put(s.label(), d);
        }
        for (Side s : sides) for (int i = 0; i < warmup; i++) dockerRun(byLabel.get(s.label()));
        Host.sleep(3000);
        // The subject's process, if it has one of its own (a built-in snapshotter lives in containerd).
        long pid = sides.getFirst().snapshotter().process().map(ProcessHandle::pid).orElse(-1L);
        long idle = rssKib(pid);
        AtomicLong peak = new AtomicLong(idle);
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(rssKib(pid), Math::max);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });

        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        ArrayNode roundsJson = json.putObject("run").putArray("rounds");
        for (int r = 0; r < rounds; r++) {
            List<Side> order = new ArrayList<>(sides);
            if (r % 2 == 1) java.util.Collections.reverse(order);
            Map<String, Stats> medians = new LinkedHashMap<>();
            for (Side s : order) {
                List<Double> ms = new ArrayList<>();
                for (int i = 0; i < runs; i++) ms.add(dockerRun(byLabel.get(s.label())));
                medians.put(s.label(), Stats.of(ms));
            }
            ObjectNode rj = roundsJson.addObject();
            rj.put("order", String.join(" ", order.stream().map(Side::label).toList()));
            StringBuilder line = new StringBuilder("run round " + (r + 1) + ":");
            double ref = medians.get(reference).median();
            for (Side s : sides) {
                double m = medians.get(s.label()).median();
                rj.put(s.label() + "_median_ms", m);
                line.append(String.format(" %s %.0f ms", s.label(), m));
                if (!s.label().equals(reference)) ratios.computeIfAbsent(s.label(), k -> new ArrayList<>()).add(m / ref);
            }
            System.out.println(line);
        }
        sampler.interrupt();
        long after = rssKib(pid);
        ObjectNode run = (ObjectNode) json.get("run");
        run.put("runs_per_round", runs);
        for (var e : ratios.entrySet()) {
            Stats st = Stats.of(e.getValue());
            run.put(e.getKey() + "_ratio_median", st.median());
            run.put(e.getKey() + "_ratio_min", st.min());
            run.put(e.getKey() + "_ratio_max", st.max());
            System.out.println("docker run --rm IMAGE true, " + e.getKey() + " / " + reference + ": " + st.ratio() + "   goal <= 1.1");
        }
        if (pid < 0) return;
        ObjectNode mem = json.putObject("snapshotter_rss_kib");
        mem.put("idle", idle);
        mem.put("peak_during_run_loop", peak.get());
        mem.put("after", after);
        mem.put("jvm_options", String.join(" ", jvmOpts));
        System.out.printf(sides.getFirst().label() + " RSS: idle %d MiB, peak during the run loop %d MiB, after %d MiB (JVM options: %s)%n",
                idle / 1024, peak.get() / 1024, after / 1024, jvmOpts.isEmpty() ? "none" : String.join(" ", jvmOpts));
    }

    /** One {@code docker run --rm --network none IMAGE true}; its wall time in ms. */
    private static double dockerRun(Dockerd d) {
        List<String> cmd = List.of(Engines.DOCKER_CLI.toString(), "-H", "unix://" + d.apiSocket, "run", "--rm", "--network", "none",
                "bench/busybox:1", "true");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("DOCKER_CONFIG", d.dir.resolve("cli").toString());
            long t0 = System.nanoTime();
            int code = pb.start().waitFor();
            double ms = (System.nanoTime() - t0) / 1e6;
            if (code != 0) d.docker(cmd.subList(3, cmd.size()).toArray(String[]::new)).ok("docker run"); // the error, with its output
            return ms;
        } catch (Exception e) {
            throw new IllegalStateException("docker run failed", e);
        }
    }

    private void unpackBench(Containerd containerd, List<Side> sides) {
        String name = "docker.io/strata-bench/big:1";
        long t0 = System.nanoTime();
        Path archive = BigImage.archive(imageDir.toAbsolutePath(), name, layers, layerMb);
        System.out.printf("unpack image: %s (%d MB, %d layers; ready in %.1f s)%n", archive, fileMb(archive), layers, (System.nanoTime() - t0) / 1e9);
        // Warm-up, the same for every side: one import each (the archive into the page cache too).
        for (Side s : sides) importOnce(containerd, s, archive, name);
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        ObjectNode unpack = json.putObject("unpack");
        unpack.put("image_mb", fileMb(archive));
        unpack.put("layers", layers);
        ArrayNode roundsJson = unpack.putArray("rounds");
        for (int r = 0; r < rounds; r++) {
            List<Side> order = new ArrayList<>(sides);
            if (r % 2 == 1) java.util.Collections.reverse(order);
            Map<String, Double> secs = new LinkedHashMap<>();
            for (Side s : order) secs.put(s.label(), importOnce(containerd, s, archive, name));
            ObjectNode rj = roundsJson.addObject();
            rj.put("order", String.join(" ", order.stream().map(Side::label).toList()));
            StringBuilder line = new StringBuilder("unpack round " + (r + 1) + ":");
            for (Side s : sides) {
                rj.put(s.label() + "_s", secs.get(s.label()));
                line.append(String.format(" %s %.2f s", s.label(), secs.get(s.label())));
                if (!s.label().equals(reference)) ratios.computeIfAbsent(s.label(), k -> new ArrayList<>()).add(secs.get(s.label()) / secs.get(reference));
            }
            System.out.println(line);
        }
        for (var e : ratios.entrySet()) {
            Stats st = Stats.of(e.getValue());
            unpack.put(e.getKey() + "_ratio_median", st.median());
            unpack.put(e.getKey() + "_ratio_min", st.min());
            unpack.put(e.getKey() + "_ratio_max", st.max());
            System.out.println("ctr images import (" + fileMb(archive) + " MB, " + layers + " layers), " + e.getKey() + " / " + reference
                    + ": " + st.ratio() + "   goal <= 1.0");
        }
    }

    /** Imports and unpacks the archive into the side's snapshotter (timed), then removes it all again (not timed). */
    private static double importOnce(Containerd containerd, Side s, Path archive, String name) {
        long t0 = System.nanoTime();
        containerd.ctrOk("images", "import", "--snapshotter", s.snapshotter().name(), archive.toString());
        double secs = (System.nanoTime() - t0) / 1e9;
        containerd.ctrOk("images", "rm", "--sync", name);
        List<String> left = s.snapshotter().stored(containerd.root());
        if (!left.isEmpty()) throw new IllegalStateException(s.label() + " kept snapshots after the image went: " + left);
        return secs;
    }

    /** Resident memory of a process in KiB, or -1 when it is gone. */
    private static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (java.io.IOException gone) {
            // exited
        }
        return -1;
    }

    private static long fileMb(Path p) {
        try {
            return Files.size(p) >> 20;
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
