package dev.strata.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Strata's btrfs driver against moby 20.10's ({@code benchmarks/peers/moby-btrfs}, the real driver through its Go
 * package), on one freshly made loop btrfs, each op on a fresh root, the two sides alternating (moby first in odd
 * runs, Strata first in even ones) so that every ratio compares numbers taken seconds apart:
 * <ul>
 *   <li>create-child: create a child of a layer of 2,000, 20,000 and 200,000 files of 1 KiB (a snapshot: O(1));
 *   at 20,000 also Strata's vfs (a reflink copy) and overlay on the same btrfs;</li>
 *   <li>lifecycle: create/get/put/remove of a child of an empty layer;</li>
 *   <li>apply and diff of peerbench's two data sets (20,000 x 4 KiB, 20 x 20 MiB).</li>
 * </ul>
 * Both sides are warmed the same way (the same untimed rounds or reps first; the JVM's lifecycle warm-up goes on
 * until the JIT is idle), tars are read once into the page cache before timing, and sync(2) runs before every
 * timed rep. Results are peerbench JSON lines appended to {@code OUT}; the table is printed at the end
 * ({@link BtrfsVsMobySummary}).
 *
 * <pre>scripts/bench BtrfsVsMoby [RUNS]   (env: DATA, OUT, WORK, OPS; RUNS default 5)</pre>
 */
public final class BtrfsVsMoby {
    static final String MOBY = "moby-btrfs", STRATA = "strata-btrfs";
    /** The O(1) series: files of 1 KiB, a hundred to a directory. */
    static final List<DataSets> SERIES = List.of(new DataSets("2,000 x 1 KiB", 2_000, 20, 1024),
            new DataSets("20,000 x 1 KiB", 20_000, 200, 1024), new DataSets("200,000 x 1 KiB", 200_000, 2_000, 1024));

    private final Path peer;
    private final Path data;
    private final Path out;
    private final Path work;
    private final Path roots;
    private final Path root;
    private final String session;

    private BtrfsVsMoby(Path peer, Path data, Path out, Path work, String session) {
        this.peer = peer;
        this.data = data;
        this.out = out;
        this.work = work;
        this.roots = work.resolve("roots");
        this.root = roots.resolve("run");
        this.session = session;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path data = Path.of(env("DATA", "/tmp/strata-bbm/data"));
        Path out = Path.of(env("OUT", "/tmp/strata-bbm/results.jsonl"));
        Path work = Path.of(env("WORK", "/tmp/strata-bbm"));
        List<String> ops = List.of(env("OPS", "create-child lifecycle apply diff").split("\\s+"));
        if (!Kernel.isRoot()) fail("must run as root (mounts, loop devices)");
        Path peer = buildPeer();
        Files.createDirectories(data);
        List<DataSets> sets = new ArrayList<>(SERIES);
        sets.addAll(List.of(DataSets.SMALL, DataSets.LARGE));
        for (DataSets s : sets) {
            Path t = tar(data, s);
            if (!Files.exists(t)) {
                System.err.println("writing " + t);
                s.writeTar(t);
            }
        }
        String session = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")) + "-bbm";
        BtrfsVsMoby b = new BtrfsVsMoby(peer, data, out, work, session);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Path img = work.resolve("btrfs.img");
        b.mountBacking(img);
        try {
            b.meta("start");
            for (int run = 1; run <= runs; run++) {
                boolean mobyFirst = run % 2 == 1;
                System.err.println("=== session " + session + " run " + run + "/" + runs + (mobyFirst ? " (moby first)" : " (Strata first)"));
                for (String op : ops) b.op(op, run, mobyFirst);
            }
            b.meta("end");
        } finally {
            b.unmountBacking(img);
        }
        BtrfsVsMobySummary.print(out, session);
    }

    static Path tar(Path data, DataSets s) {
        return data.resolve(s.files() + "x" + s.size() + ".tar");
    }

    private void op(String op, int run, boolean mobyFirst) throws Exception {
        switch (op) {
            case "create-child" -> {
                for (DataSets s : SERIES) {
                    String label = s.files() + "-files";
                    String t = tar(data, s).toString();
                    both(mobyFirst, impl -> bench(run, impl, "create-child", label, "-tar", t, "-reps", "5", "-warmup", "2"));
                    if (s.files() == 20_000) {
                        bench(run, "strata-vfs", "create-child", label, "-tar", t, "-reps", "5", "-warmup", "2");
                        bench(run, "strata-overlay", "create-child", label, "-tar", t, "-reps", "5", "-warmup", "2");
                    }
                }
            }
            case "lifecycle" -> both(mobyFirst, impl -> bench(run, impl, "lifecycle", "empty-base", "-n", "2000", "-warmup", "2000"));
            case "apply", "diff" -> {
                for (DataSets s : List.of(DataSets.SMALL, DataSets.LARGE)) {
                    String label = s == DataSets.SMALL ? "small-files" : "large-files";
                    String t = tar(data, s).toString();
                    both(mobyFirst, impl -> bench(run, impl, op, label, "-tar", t, "-reps", "5", "-warmup", "1"));
                }
            }
            default -> fail("unknown op " + op + " (create-child, lifecycle, apply, diff)");
        }
    }

    private interface Side {
        void run(String impl) throws Exception;
    }

    /** Both sides, in the run's order. */
    private static void both(boolean mobyFirst, Side side) throws Exception {
        side.run(mobyFirst ? MOBY : STRATA);
        side.run(mobyFirst ? STRATA : MOBY);
    }

    private void bench(int run, String impl, String op, String label, String... extra) throws Exception {
        freshRoot();
        List<String> cmd = new ArrayList<>();
        if (impl.equals(MOBY)) {
            cmd.add(peer.toString());
            cmd.addAll(List.of("-run", Integer.toString(run)));
        } else {
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), PeerBench.class.getName(), "-impl", impl, "-run", Integer.toString(run)));
        }
        cmd.addAll(List.of("-root", root.toString(), "-op", op, "-label", label, "-session", session));
        cmd.addAll(List.of(extra));
        String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(work.resolve("bench.log").toFile())).start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        boolean done = p.waitFor(60, TimeUnit.MINUTES);
        if (!line.isEmpty()) {
            JsonNode n = new ObjectMapper().readTree(line);
            ((com.fasterxml.jackson.databind.node.ObjectNode) n).put("loadavg_start", load);
            line = n.toString();
            Files.writeString(out, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        JsonNode r = line.isEmpty() ? null : new ObjectMapper().readTree(line);
        System.err.printf("run=%d %-14s %-12s %-13s rc=%s load=%s median_us=%s%s%n", run, impl, op, label,
                done ? p.exitValue() : "timeout", load, r == null ? "-" : r.path("median_us").asText("-"),
                r != null && r.has("error") ? " error=" + r.get("error").asText() : "");
        freshRoot();
    }

    /** Unmounts what a run left under the root (moby bind-mounts its home), and removes the root. */
    private void freshRoot() throws Exception {
        Mounts.unmountAllUnder(root);
        if (Files.exists(root)) {
            // rm removes a subvolume as a directory once it is empty (root may rmdir subvolumes since Linux 4.18).
            Process rm = new ProcessBuilder("rm", "-rf", "--one-file-system", root.toString()).inheritIO().start();
            if (!rm.waitFor(30, TimeUnit.MINUTES) || rm.exitValue() != 0) fail("cannot remove " + root);
        }
        Files.createDirectories(root);
        PeerBench.sync();
    }

    /** A fresh 32 GiB sparse btrfs on a loop device, mounted nobarrier (as peerbench's ext4: no flushes to the host disk). */
    private void mountBacking(Path img) throws Exception {
        Files.createDirectories(roots);
        Mounts.unmountAllUnder(roots);
        Files.deleteIfExists(img);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(32L << 30);
        }
        Process mkfs = new ProcessBuilder("mkfs.btrfs", "-q", "-f", img.toString()).inheritIO().start();
        if (!mkfs.waitFor(10, TimeUnit.MINUTES) || mkfs.exitValue() != 0) fail("mkfs.btrfs failed");
        try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
            Mounts.mount(loop.device().toString(), roots, "btrfs", 0, "nobarrier");
            System.err.println("backing: fresh btrfs on " + loop.device() + " at " + roots + " (nobarrier)");
        }
    }

    private void unmountBacking(Path img) throws Exception {
        Mounts.unmountAllUnder(roots);
        for (int i = 0; i < 100 && LoopDevice.findAttached(img).isPresent(); i++) Thread.sleep(50);
        Files.deleteIfExists(img);
    }

    private void meta(String when) throws IOException {
        String line = "{\"op\":\"meta\",\"when\":\"" + when + "\",\"session\":\"" + session + "\",\"kernel\":\"" + Kernel.release()
                + "\",\"ncpu\":" + Runtime.getRuntime().availableProcessors() + ",\"backing\":\"btrfs loop nobarrier\",\"loadavg\":\""
                + Files.readString(Path.of("/proc/loadavg")).strip() + "\",\"java\":\"" + Runtime.version() + "\"}\n";
        Files.writeString(out, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.err.println("load average at " + when + ": " + Files.readString(Path.of("/proc/loadavg")).strip());
    }

    /** benchmarks/peers/build moby-btrfs, from the repository root (scripts/bench runs there). */
    private static Path buildPeer() throws Exception {
        Path script = Path.of("benchmarks/peers/build").toAbsolutePath();
        if (!Files.isExecutable(script)) fail(script + " not found: run from the repository root (scripts/bench does)");
        Process p = new ProcessBuilder(script.toString(), "moby-btrfs").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String path = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) fail("cannot build the moby peer (see above)");
        return Path.of(path);
    }

    private static String env(String k, String def) {
        String v = System.getenv(k);
        return v == null || v.isBlank() ? def : v;
    }

    private static void fail(String why) {
        System.err.println("BtrfsVsMoby: " + why);
        System.exit(2);
    }
}
