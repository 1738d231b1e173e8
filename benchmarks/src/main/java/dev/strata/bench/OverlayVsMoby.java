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
 * Strata's overlay driver against moby's overlay2 (peerbench's Go build of the real driver), interleaved: for each
 * run, each op runs for moby then for Strata, each on a fresh root on the same freshly made loop ext4 mounted
 * {@code nobarrier} (peerbench's default backing), so every ratio compares numbers taken minutes apart. Results are
 * peerbench JSON lines appended to {@code OUT}; the summary is printed at the end ({@link OverlayVsMobySummary}).
 *
 * <pre>scripts/bench OverlayVsMoby [RUNS]   (env: PEERBENCH, DATA, OUT, WORK, OPS, VARIANT_CP)</pre>
 *
 * <p>{@code VARIANT_CP}: class path entries put in front of Strata's for an extra, labelled run of lifecycle and
 * create-chain ("variant"), to measure a candidate change of a dependency (say a patched driver-api class) in the
 * same session as the code as it is.
 */
public final class OverlayVsMoby {
    private static final String MOBY = "moby-overlay2", STRATA = "strata-overlay";

    private final Path peerbench;
    private final Path data;
    private final Path out;
    private final Path work;
    private final Path roots;
    private final Path root;
    private final String session;
    private final String variantCp = env("VARIANT_CP", "");

    private OverlayVsMoby(Path peerbench, Path data, Path out, Path work, String session) {
        this.peerbench = peerbench;
        this.data = data;
        this.out = out;
        this.work = work;
        this.roots = work.resolve("roots");
        this.root = roots.resolve("run");
        this.session = session;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path peerbench = Path.of(env("PEERBENCH", "/tmp/peerbench/bin/peerbench"));
        Path data = Path.of(env("DATA", "/tmp/peerbench/data"));
        Path out = Path.of(env("OUT", "/tmp/peerbench/results.jsonl"));
        Path work = Path.of(env("WORK", "/tmp/strata-ovb"));
        List<String> ops = List.of(env("OPS", "lifecycle create-chain apply diff").split("\\s+"));
        if (!Kernel.isRoot()) fail("must run as root (mounts, loop devices)");
        if (!Files.isExecutable(peerbench)) {
            fail(peerbench + " is missing: build it as ../shared/peerbench/README.md says (INSTALL_DEPS=1 ./run.sh once, "
                    + "or GO111MODULE=off GOPATH=/usr/share/gocode:$PWD/gopath go build -o " + peerbench + " .)");
        }
        for (String t : List.of("small-files.tar", "large-files.tar")) {
            if (!Files.exists(data.resolve(t))) fail(data.resolve(t) + " is missing: " + peerbench + " gen-tar (see peerbench's run.sh)");
        }
        String session = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")) + "-ovm";
        OverlayVsMoby b = new OverlayVsMoby(peerbench, data, out, work, session);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.createDirectories(work);
        Path img = work.resolve("backing.img");
        b.mountBacking(img);
        try {
            b.meta();
            for (int run = 1; run <= runs; run++) {
                System.err.println("=== session " + session + " run " + run + "/" + runs + " -> " + out);
                for (String op : ops) b.op(op, run);
            }
        } finally {
            b.unmountBacking(img);
        }
        OverlayVsMobySummary.print(out, session);
    }

    private void op(String op, int run) throws Exception {
        switch (op) {
            case "lifecycle" -> {
                // 2,000 timed rounds, not peerbench's default 200: the median of 200 rounds (0.2 s) moves by a third
                // from run to run on this machine, for moby as for Strata, with the ext4 journal's commits.
                bench(run, MOBY, "lifecycle", "empty-base", "-n", "2000");
                // 10,000 untimed rounds: the JIT's steady state (C2 compiles a method after ~10k calls), as in a
                // long-running engine; "cold" is a fresh JVM's first 200 rounds.
                bench(run, STRATA, "lifecycle", "warm", "-n", "2000", "-warmup", "10000");
                bench(run, STRATA, "lifecycle", "cold", "-n", "200", "-warmup", "0");
                if (!variantCp.isEmpty()) bench(run, STRATA, "lifecycle", "warm-variant", "-n", "2000", "-warmup", "10000");
            }
            case "create-chain" -> {
                bench(run, MOBY, "create-chain", "tiny-layers", "-depth", "100", "-depths", "1,10,50,100,127,128,129,130", "-reps", "50");
                bench(run, STRATA, "create-chain", "tiny-layers", "-depth", "100", "-warmup", "2000",
                        "-depths", "1,10,50,100,127,128,129,130,200,300,400,500,501", "-committed-depths", "500", "-reps", "50");
                if (!variantCp.isEmpty()) {
                    bench(run, STRATA, "create-chain", "tiny-layers-variant", "-depth", "100", "-warmup", "2000",
                            "-depths", "1,10,50,100,127,128,129,130,200,300,400,500,501", "-committed-depths", "500", "-reps", "50");
                }
            }
            case "apply", "diff" -> {
                for (String t : List.of("small-files", "large-files")) {
                    bench(run, MOBY, op, t, "-tar", data.resolve(t + ".tar").toString(), "-reps", "5");
                    bench(run, STRATA, op, t, "-tar", data.resolve(t + ".tar").toString(), "-reps", "5", "-warmup", "1");
                }
            }
            default -> fail("unknown op " + op + " (lifecycle, create-chain, apply, diff)");
        }
    }

    private void bench(int run, String impl, String op, String label, String... extra) throws Exception {
        freshRoot();
        List<String> cmd = new ArrayList<>();
        if (impl.equals(MOBY)) {
            cmd.add(peerbench.toString());
        } else {
            String cp = System.getProperty("java.class.path");
            if (label.endsWith("-variant")) cp = variantCp + ":" + cp;
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                    "-cp", cp, PeerBench.class.getName()));
        }
        cmd.addAll(List.of("-impl", impl, "-root", root.toString(), "-op", op, "-label", label, "-run", Integer.toString(run),
                "-session", session));
        cmd.addAll(List.of(extra));
        String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(work.resolve("bench.log").toFile())).start();
        String line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        boolean done = p.waitFor(60, TimeUnit.MINUTES);
        if (!line.isEmpty()) {
            Files.writeString(out, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        JsonNode r = line.isEmpty() ? null : new ObjectMapper().readTree(line);
        System.err.printf("run=%d %-15s %-13s %-12s rc=%s load=%s median_us=%s%s%n", run, impl, op, label,
                done ? p.exitValue() : "timeout", load, r == null ? "-" : r.path("median_us").asText("-"),
                r != null && r.has("error") ? " error=" + r.get("error").asText() : "");
        freshRoot();
    }

    /** Unmounts what a run left under the root (by exact path, deepest first) and removes the root. */
    private void freshRoot() throws Exception {
        Mounts.unmountAllUnder(root);
        if (Files.exists(root)) {
            Process rm = new ProcessBuilder("rm", "-rf", "--one-file-system", root.toString()).inheritIO().start();
            if (!rm.waitFor(10, TimeUnit.MINUTES) || rm.exitValue() != 0) fail("cannot remove " + root);
        }
        Files.createDirectories(root);
        PeerBench.sync();
    }

    /** peerbench's BACKING=loop: a fresh 8 GiB sparse ext4 (no lazy init) on a loop device, mounted nobarrier. */
    private void mountBacking(Path img) throws Exception {
        Mounts.unmountAllUnder(roots);
        Files.deleteIfExists(img);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(8L << 30);
        }
        Process mkfs = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", img.toString())
                .inheritIO().start();
        if (!mkfs.waitFor(10, TimeUnit.MINUTES) || mkfs.exitValue() != 0) fail("mkfs.ext4 failed");
        Files.createDirectories(roots);
        try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
            Mounts.mount(loop.device().toString(), roots, "ext4", 0, "nobarrier");
            System.err.println("backing: fresh ext4 on " + loop.device() + " at " + roots + " (nobarrier)");
        }
    }

    private void unmountBacking(Path img) throws Exception {
        Mounts.unmountAllUnder(roots);
        for (int i = 0; i < 100 && LoopDevice.findAttached(img).isPresent(); i++) Thread.sleep(50);
        Files.deleteIfExists(img);
    }

    private void meta() throws IOException {
        String line = "{\"op\":\"meta\",\"session\":\"" + session + "\",\"kernel\":\"" + Kernel.release() + "\",\"ncpu\":"
                + Runtime.getRuntime().availableProcessors() + ",\"backing\":\"ext4 loop nobarrier\",\"loadavg\":\""
                + Files.readString(Path.of("/proc/loadavg")).strip() + "\",\"java\":\"" + Runtime.version() + "\"}\n";
        Files.writeString(out, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static String env(String k, String def) {
        String v = System.getenv(k);
        return v == null || v.isBlank() ? def : v;
    }

    private static void fail(String why) {
        System.err.println("OverlayVsMoby: " + why);
        System.exit(2);
    }
}
