package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.IdMaps;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The first get of a container layer under a user-namespace map (0:100000:65536), on an image of N files of 10 KiB
 * in N/100 directories (2,000 / 20,000 / 200,000 files: 20 MB / 200 MB / 2 GB): Strata's overlay with idmapped
 * lowers against moby 20.10's {@code --userns-remap} way, a chown'ed copy of the image made by moby's own Go code
 * ({@code benchmarks/peers/moby-remap}, both of its copy methods: pkg/archive's remapping TarUntar, and
 * graphdriver/copy.DirCopy followed by an idtools chown walk).
 *
 * <p>What is timed, from "the image is there" to "the container's root is ready":
 * <ul>
 *   <li>Strata: createReadWrite of the container layer with the map, then its first get (user namespace, idmapped
 *   tree, overlay mount), in a warm JVM (the overlay driver has done 30 such rounds on a small image first);</li>
 *   <li>moby: Create of the image layer in the remapped root, the shifted copy into it, CreateReadWrite of the
 *   container layer, and its first Get; timed inside the Go process.</li>
 * </ul>
 * Both images live on one fresh loop-mounted ext4 ({@code nobarrier}, as peerbench's backing), and before every
 * timed run both are read whole into the page cache (the copy's best case) and the disk is synced. Runs alternate
 * the order (Strata first on odd runs, moby first on even ones); ratios are per run, moby / Strata.
 *
 * <pre>scripts/bench IdmapFirstGet [RUNS] [FILES,FILES,...] [MOBY-WAYS]   (default: 5 runs; 2000,20000,200000 files;
 * dircopy,tar)</pre>
 * MOBY-WAYS {@code dircopy} alone measures moby's faster way only (the ratio is against the faster one anyway), which
 * halves the time a 200,000-file run takes.
 */
public final class IdmapFirstGet {
    static final IdMaps MAP = IdMaps.parse("0:100000:65536", "0:100000:65536");
    static final long FILE_SIZE = 10 * 1024;

    private final Path mount;
    private final Path peer;
    private final StorageDriver strata;
    private final List<String> ways;
    private final ObjectMapper json = new ObjectMapper();

    private IdmapFirstGet(Path mount, Path peer, StorageDriver strata, List<String> ways) {
        this.mount = mount;
        this.peer = peer;
        this.strata = strata;
        this.ways = ways;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<Integer> sizes = args.length > 1 ? Stream.of(args[1].split(",")).map(Integer::parseInt).toList() : List.of(2000, 20000, 200000);
        List<String> ways = args.length > 2 ? List.of(args[2].split(",")) : List.of("dircopy", "tar");
        if (ways.isEmpty() || !List.of("dircopy", "tar").containsAll(ways)) fail("moby's ways are dircopy and tar, not " + args[2]);
        if (!Kernel.isRoot()) fail("must run as root (mounts, user namespaces)");
        Path peer = VsMoby.buildPeer(Path.of("").toAbsolutePath(), "moby-remap");
        long biggest = sizes.stream().mapToLong(n -> n).max().orElse(0) * FILE_SIZE;
        String loadStart = Comparison.loadAverage();
        List<String> report = new ArrayList<>();
        try (BenchMount b = BenchMount.ext4(Math.max(8L << 30, biggest * 5))) {
            StorageDriver d = DriverRegistry.load().open(DriverRegistry.load().require("overlay"), b.mount.resolve("strata"), List.of());
            try {
                IdmapFirstGet bench = new IdmapFirstGet(b.mount, peer, d, ways);
                bench.warmUp();
                for (int n : sizes) report.add(bench.size(n, runs));
            } finally {
                d.cleanup();
            }
        }
        String loadEnd = Comparison.loadAverage();
        System.out.println();
        System.out.println("IdmapFirstGet: first get of a container layer under 0:100000:65536, " + runs + " runs per size, kernel "
                + Kernel.release() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, ext4 on loop (nobarrier), page cache warm");
        System.out.println("load average at start: " + loadStart + "; at end: " + loadEnd);
        System.out.printf(Locale.ROOT, "%-8s %-8s %-18s %-22s %-22s %-28s %s%n", "files", "MB", "strata ms (get)",
                "moby dircopy+chown ms", "moby tar-remap ms", "ratio vs faster moby", "spread (min-max)");
        report.forEach(System.out::println);
    }

    /** 30 mapped create/get/put/remove rounds on a small image: the JIT compiled, as in a long-running engine. */
    private void warmUp() throws IOException {
        Path tar = mount.resolve("warm.tar");
        new DataSets("warm-up (200 x 10 KiB)", 200, 2, FILE_SIZE).writeTar(tar);
        strata.create("warm", null, CreateOptions.NONE);
        try (InputStream in = Files.newInputStream(tar)) {
            strata.applyDiff("warm", null, in);
        }
        for (int i = 0; i < 30; i++) {
            strata.createReadWrite("warm-c", "warm", CreateOptions.of(MAP));
            strata.get("warm-c", "");
            strata.put("warm-c");
            strata.remove("warm-c");
        }
        strata.remove("warm");
        Files.delete(tar);
    }

    private String size(int files, int runs) throws Exception {
        DataSets data = new DataSets(files + " x 10 KiB", files, Math.max(1, files / 100), FILE_SIZE);
        Path tar = mount.resolve("image-" + files + ".tar");
        data.writeTar(tar);
        String image = "image-" + files;
        strata.create(image, null, CreateOptions.NONE);
        try (InputStream in = Files.newInputStream(tar)) {
            strata.applyDiff(image, null, in);
        }
        Path mobyPlain = mount.resolve("moby-plain-" + files), mobyRemap = mount.resolve("moby-remap-" + files);
        peer(List.of("prepare", "-home", mobyPlain.toString(), "-id", "image", "-tar", tar.toString()));
        Files.delete(tar);
        Path strataImage = strata.get(image, "");
        strata.put(image);

        List<Double> s = new ArrayList<>(), sGet = new ArrayList<>(), dircopy = new ArrayList<>(), untar = new ArrayList<>(), ratios = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            warm(strataImage);
            warm(mobyPlain);
            PeerBench.sync();
            double[] st = null;
            double dc, tu;
            if (run % 2 == 1) {
                st = strataRun(image, run);
                dc = moby(mobyPlain, mobyRemap, "dircopy", run);
                tu = moby(mobyPlain, mobyRemap, "tar", run);
            } else {
                tu = moby(mobyPlain, mobyRemap, "tar", run);
                dc = moby(mobyPlain, mobyRemap, "dircopy", run);
                st = strataRun(image, run);
            }
            s.add(st[0]);
            sGet.add(st[1]);
            dircopy.add(dc);
            untar.add(tu);
            double faster = Double.isNaN(dc) ? tu : Double.isNaN(tu) ? dc : Math.min(dc, tu);
            ratios.add(faster / st[0]);
            System.err.printf(Locale.ROOT, "files=%d run=%d strata=%.2f ms (get %.2f) moby dircopy=%.1f ms tar=%.1f ms ratio=%.0fx load=%s%n",
                    files, run, st[0], st[1], dc, tu, faster / st[0], Comparison.loadAverage());
        }
        strata.remove(image);
        List<Double> sorted = new ArrayList<>(ratios);
        sorted.sort(null);
        return String.format(Locale.ROOT, "%-8d %-8d %-18s %-22.1f %-22.1f %-28s %.0fx-%.0fx", files, files * FILE_SIZE / 1_000_000,
                String.format(Locale.ROOT, "%.2f (%.2f)", Comparison.median(s), Comparison.median(sGet)), Comparison.median(dircopy), Comparison.median(untar),
                String.format(Locale.ROOT, "%.0fx", Comparison.median(ratios)), sorted.getFirst(), sorted.getLast());
    }

    /** ms of createReadWrite + first get, and of the get alone; checks the view, then puts and removes. */
    private double[] strataRun(String image, int run) throws IOException {
        String c = "c-" + image + "-" + run;
        long t0 = System.nanoTime();
        strata.createReadWrite(c, image, CreateOptions.of(MAP));
        long t1 = System.nanoTime();
        Path root = strata.get(c, "");
        long t2 = System.nanoTime();
        int uid = (Integer) Files.getAttribute(root.resolve("d000/f00000"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (uid != 100000) fail("the container's view shows uid " + uid + ", not 100000");
        strata.put(c);
        strata.remove(c);
        return new double[]{(t2 - t0) / 1e6, (t2 - t1) / 1e6};
    }

    /** One of moby's ways, or NaN when it is not measured in this run. */
    private double moby(Path plain, Path remap, String way, int run) throws IOException, InterruptedException {
        return ways.contains(way) ? mobyRun(plain, remap, way, run) : Double.NaN;
    }

    private double mobyRun(Path plain, Path remap, String variant, int run) throws IOException, InterruptedException {
        JsonNode r = peer(List.of("remap-get", "-src-home", plain.toString(), "-src-id", "image", "-home", remap.toString(),
                "-variant", variant, "-run", Integer.toString(run)));
        if (r.path("root_uid").asInt() != 100000) fail("moby's copy shows uid " + r.path("root_uid") + " at its root, not 100000");
        PeerBench.sync(); // the copy's dirty pages, before the next side runs
        return r.path("total_ms").asDouble();
    }

    private JsonNode peer(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(peer.toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) fail("moby-remap " + String.join(" ", args) + " failed");
        return json.readTree(line);
    }

    /** Reads every file under {@code dir} once, so both sides start with the image in the page cache. */
    private static void warm(Path dir) throws IOException {
        byte[] buf = new byte[1 << 16];
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
                try (InputStream in = Files.newInputStream(p)) {
                    while (in.read(buf) > 0) {
                        // into the page cache
                    }
                }
            }
        }
    }

    /** Ends the benchmark with {@code why}; thrown, so the backing is unmounted on the way out. */
    private static void fail(String why) {
        throw new IllegalStateException("IdmapFirstGet: " + why);
    }
}
