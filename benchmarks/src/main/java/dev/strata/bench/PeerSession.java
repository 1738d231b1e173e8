package dev.strata.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.Trees;

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
 * One session of a *VsMoby benchmark: a fresh filesystem on a loop file as the backing of every root, each
 * invocation (a moby peer, or Strata's {@link PeerBench}) on a fresh root there, its JSON line appended to
 * {@code out} with the 1-minute load average taken just before it.
 */
final class PeerSession {
    final Path out;
    final Path work;
    final Path roots;
    final Path root;
    final String session;
    private final boolean subvolumes;
    private Teardown backing;

    /** @param subvolumes the backing is btrfs: rm must descend into subvolumes, which are other devices to it */
    PeerSession(Path out, Path work, String suffix, boolean subvolumes) throws IOException {
        this.subvolumes = subvolumes;
        this.out = out;
        this.work = work;
        this.roots = work.resolve("roots");
        this.root = roots.resolve("run");
        this.session = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")) + "-" + suffix;
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.createDirectories(roots);
    }

    /**
     * Strata's side: this JVM's java and class path running {@link PeerBench}, with the JVM flags the launcher gives a
     * long-running strata (the serial GC, 2 MiB stacks): the JVM an engine would embed or run, not the JDK's defaults.
     */
    static List<String> strata() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-Xss2m", "-cp", System.getProperty("java.class.path"), PeerBench.class.getName());
    }

    /** Runs {@code command} with the common flags and {@code extra} on a fresh root; returns its result line (or null). */
    ObjectNode bench(List<String> command, int run, String impl, String op, String label, String... extra) throws Exception {
        freshRoot(root);
        String load = loadAverage().split(" ")[0];
        Process p = start(command, root, run, impl, op, label, extra);
        String line;
        boolean done;
        try {
            line = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            done = p.waitFor(60, TimeUnit.MINUTES);
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
        ObjectNode r = record(line, load);
        System.err.printf("run=%d %-15s %-13s %-13s rc=%s load=%s median_us=%s%s%n", run, impl, op, label,
                done ? p.exitValue() : "timeout", load, r == null ? "-" : r.path("median_us").asText("-"),
                r != null && r.has("error") ? " error=" + r.get("error").asText() : "");
        freshRoot(root);
        return r;
    }

    /** Starts {@code command} with the common flags and {@code extra} on {@code root}, its stderr appended to bench.log. */
    Process start(List<String> command, Path root, int run, String impl, String op, String label, String... extra) throws IOException {
        if (Teardown.stopping()) throw new IOException("the benchmark is stopping: " + impl + " not started");
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of("-impl", impl, "-root", root.toString(), "-op", op, "-label", label, "-run", Integer.toString(run),
                "-session", session));
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(work.resolve("bench.log").toFile())).start();
    }

    /** Parses a result line and appends it to {@link #out} with the load average before the block; null if empty. */
    ObjectNode record(String line, String load) throws IOException {
        if (line == null || line.isBlank()) return null;
        ObjectNode r = (ObjectNode) new ObjectMapper().readTree(line);
        r.put("loadavg_start", load);
        Files.writeString(out, r + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return r;
    }

    /**
     * A root of its own for one of two processes that run side by side ({@link Lockstep}), fresh. Keep the name as
     * short as the other side's: moby's overlay2 mounts through a re-executed helper once its options pass a page,
     * and with 50 lowers the root's length decides that.
     */
    Path freshRoot(String name) throws Exception {
        Path r = roots.resolve(name);
        freshRoot(r);
        return r;
    }

    /** Unmounts what a run left under {@code root} (by exact path, deepest first) and removes it. */
    void freshRoot(Path root) throws Exception {
        Mounts.unmountAllUnder(root);
        if (Files.exists(root)) {
            // Nothing is mounted under the root now. On btrfs, rm removes a subvolume as a directory once it is
            // empty (root may since Linux 4.18), but only without --one-file-system: each subvolume is a device.
            Process rm = new ProcessBuilder(subvolumes ? List.of("rm", "-rf", root.toString())
                    : List.of("rm", "-rf", "--one-file-system", root.toString())).inheritIO().start();
            if (!rm.waitFor(30, TimeUnit.MINUTES) || rm.exitValue() != 0) throw new IOException("cannot remove " + root);
        }
        Files.createDirectories(root);
        PeerBench.sync();
    }

    /**
     * A fresh sparse {@code image} of {@code size} bytes, formatted by {@code mkfs} (image path appended), mounted on the
     * roots; undone by {@link #unmountBacking()}, or when a signal stops the JVM ({@link Teardown}).
     */
    void mountBacking(Path image, long size, List<String> mkfs, String type, String data) throws Exception {
        Mounts.unmountAllUnder(roots);
        Files.deleteIfExists(image);
        backing = Teardown.of(image.toString(), () -> {
            Mounts.unmountAllUnder(roots);
            for (int i = 0; i < 100 && LoopDevice.findAttached(image).isPresent(); i++) Thread.sleep(50);
            Files.deleteIfExists(image);
            Trees.delete(roots);
        });
        try {
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(size);
            }
            List<String> cmd = new ArrayList<>(mkfs);
            cmd.add(image.toString());
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " failed");
            Files.createDirectories(roots);
            try (LoopDevice loop = LoopDevice.attach(image, false, true)) {
                Mounts.mount(loop.device().toString(), roots, type, 0, data);
                System.err.println("backing: fresh " + type + " on " + loop.device() + " at " + roots + " (" + data + ")");
            }
        } catch (Exception e) {
            unmountBacking();
            throw e;
        }
    }

    /** Unmounts the backing with every root on it, and deletes its image and the roots' mount point. */
    void unmountBacking() throws Exception {
        if (backing != null) backing.close();
    }

    /** A meta line: the kernel, the cores, the backing and the load average now. */
    void meta(String backing, String when) throws IOException {
        String line = "{\"op\":\"meta\",\"when\":\"" + when + "\",\"session\":\"" + session + "\",\"kernel\":\"" + Kernel.release()
                + "\",\"ncpu\":" + Runtime.getRuntime().availableProcessors() + ",\"backing\":\"" + backing + "\",\"loadavg\":\""
                + loadAverage() + "\",\"java\":\"" + Runtime.version() + "\"}\n";
        Files.writeString(out, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.err.println("load average at " + when + ": " + loadAverage());
    }

    static String loadAverage() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).strip();
    }
}
