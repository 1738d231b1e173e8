package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.LayerBusyException;
import dev.strata.api.StorageDriver;
import dev.strata.kit.DriverKit;
import dev.strata.kit.RunDirectory;
import dev.strata.nativeio.Trees;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One kill -9 trial: a child JVM ({@link KillChild}) runs an apply, a create or a remove, and is killed at a random
 * moment of it (uniform over 1.5 times the operation's duration, so some kills land after it finished). Then a new
 * instance of the driver must show the layer either exactly as it was before the operation or exactly as the
 * operation leaves it, nothing in between, and every call must agree. A kill drawn for after the child's operation
 * returned is made when the child says so: it does nothing more, so the state found is the same.
 *
 * <p>The duration is that of the operation as a new child's first one, which is what a trial's operation is. The
 * first trial of an operation has the child time it once on a throwaway id (a first call costs far more than a second
 * one, under TCG several times more, so that trial's kill mostly comes at DONE); every later trial uses the last one's
 * timing of its own operation instead, and its child runs nothing but that operation.
 *
 * <p>Used by {@link AllOrNothingTests} (a few trials per operation) and, for many trials with a report, by the
 * benchmarks' {@code KillTrials}.
 */
public final class KillTrial {
    static final String BASE = "kill-base";

    public enum Op { APPLY, CREATE, REMOVE }

    /**
     * @param state     {@code before} or {@code after}: which whole state the killed operation left
     * @param opNanos   the operation's duration the kill delay was drawn against
     */
    public record Outcome(Op op, boolean onContent, String state, long delayNanos, long opNanos) {
    }

    private final String driver;
    private final List<String> options;
    private final Path root;
    private final Supplier<StorageDriver> reopen;
    private int serial;
    private boolean anyEntry;
    /**
     * The parent as the first trial found it. Every trial compares with it, so a change made by any trial (its
     * operation, or the remove that ends it) fails the next check, and a big parent is walked once less a trial.
     */
    private Map<String, String> baseTree;
    /** Per operation: how long it took as a child's first operation, last seen. */
    private final Map<Op, Long> firstOpNanos = new EnumMap<>(Op.class);

    /** @param reopen a new instance of the driver on {@code root}, as after a restart */
    public KillTrial(String driver, List<String> options, Path root, Supplier<StorageDriver> reopen) {
        this.driver = driver;
        this.options = List.copyOf(options);
        this.root = root;
        this.reopen = reopen;
    }

    /**
     * After a lost run directory, a layer the killed operation left absent must have no entry named after it anywhere
     * under the home (the kit's state included), not only no hidden entry naming it: a partial {@code dir/<id>} without
     * its record is a leftover too. (A driver's own staged names, such as devmapper's {@code -new-<id>} devices,
     * which its next create of the id sweeps, are not looked for.) Returns this trial.
     */
    public KillTrial noEntryNamedAfterIt() {
        anyEntry = true;
        return this;
    }

    /**
     * The tar the killed apply applies: 240 files of 8 KiB in 8 directories, a whiteout and a replaced file of the
     * base. 512-byte records, so that it ends with exactly the two zero blocks.
     */
    static byte[] applied() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, 512)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (int d = 0; d < 8; d++) {
                dir(tar, "d" + d + "/");
                for (int f = 0; f < 30; f++) file(tar, "d" + d + "/f" + f, RandomContent.of(8192, d * 100L + f));
            }
            file(tar, ".wh.base-gone", new byte[0]);
            file(tar, "base-file", "replaced".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] baseTar() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            file(tar, "base-file", "base".getBytes(StandardCharsets.UTF_8));
            file(tar, "base-gone", "to be whited out".getBytes(StandardCharsets.UTF_8));
            dir(tar, "d0/");
            file(tar, "d0/from-base", "kept".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static byte[] smallContent() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            dir(tar, "own/");
            for (int f = 0; f < 20; f++) file(tar, "own/f" + f, RandomContent.of(4096, 7000 + f));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** One file of {@code size} random bytes: more than a small filesystem holds. */
    static byte[] bigger(int size) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            file(tar, "big", RandomContent.of(size, 99));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * A ustar entry named {@code ../escape} (3 bytes of data) and the end of the archive, written by hand: tar
     * writers clean such names, and every engine refuses this one.
     */
    static byte[] climbingOut() {
        byte[] h = new byte[512];
        put(h, 0, "../escape");
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, "00000000003");
        put(h, 136, "13741740000");
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = '0';
        put(h, 257, "ustar");
        put(h, 263, "00");
        int sum = 0;
        for (byte b : h) sum += b & 0xff;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        byte[] out = new byte[512 * 4];
        System.arraycopy(h, 0, out, 0, 512);
        put(out, 512, "out");
        return out; // header, one data block, two zero blocks
    }

    private static void put(byte[] b, int off, String s) {
        byte[] v = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(v, 0, b, off, v.length);
    }

    private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(040755);
        e.setModTime(1_600_000_000_000L);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100644);
        e.setSize(content.length);
        e.setModTime(1_600_000_000_000L);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /**
     * Runs one trial; {@code onContent}: the layer applied to or removed has content of its own first. Returns the
     * state found; throws AssertionError when it is neither whole state, or when the calls disagree.
     */
    public Outcome run(Op op, boolean onContent, SplittableRandom random) throws Exception {
        return run(op, onContent, false, random);
    }

    /**
     * As {@link #run}, and with {@code lostRunDirectory} the home's run directory is deleted after the kill, as a
     * reboot or the stale sweep leaves it (no mark, lock or count of before): the new instance must still show a
     * whole state, and no hidden entry of the home (a staging dir, outside the kit's {@code .strata}) may still
     * name the layer when the killed operation left it absent.
     */
    public Outcome run(Op op, boolean onContent, boolean lostRunDirectory, SplittableRandom random) throws Exception {
        StorageDriver d = reopen.get();
        if (!d.exists(BASE)) {
            d.create(BASE, null, CreateOptions.NONE);
            d.applyDiff(BASE, null, new ByteArrayInputStream(baseTar()));
        }
        if (baseTree == null) baseTree = Layers.describe(d, BASE, true);
        String id = "kill-" + op.name().toLowerCase() + "-" + ProcessHandle.current().pid() + "-" + (++serial);
        String twin = id + "-twin";
        Map<String, String> before = null, after;
        switch (op) {
            case CREATE -> after = baseTree;
            case APPLY -> {
                before = prepare(d, id, onContent);
                prepare(d, twin, onContent);
                d.applyDiff(twin, BASE, new ByteArrayInputStream(applied()));
                after = Layers.describe(d, twin, true);
                d.remove(twin);
            }
            case REMOVE -> {
                before = prepare(d, id, true);
                after = null;
            }
            default -> throw new IllegalStateException();
        }

        long[] timing = killDuring(op, id, random);
        Path home = root.resolve(driver);
        if (lostRunDirectory) Trees.delete(RunDirectory.forHome(home));

        StorageDriver r = reopen.get();
        check(Layers.describe(r, BASE, true).equals(baseTree), "the parent layer changed");
        boolean exists = r.exists(id);
        check(exists == r.layers().contains(id), "exists says " + exists + " but layers() disagrees");
        if (lostRunDirectory && !exists) {
            List<Path> left = new ArrayList<>(hiddenEntriesNaming(home, id));
            if (anyEntry) left.addAll(entriesNamed(home, id));
            check(left.isEmpty(), "after a lost run directory, the open left what the killed " + op + " made: " + left);
        }
        String state;
        if (!exists) {
            check(op != Op.APPLY, "after a killed apply the layer, which existed before, is gone");
            state = op == Op.CREATE ? "before" : "after";
            r.create(id, BASE, CreateOptions.NONE); // the id is free again
            check(r.parent(id).equals(BASE), "parent of the layer made again");
        } else {
            // The children index must still count it, whatever moment of its create or remove the kill cut.
            check(refusesToRemove(r, BASE), "the parent of a layer the killed " + op + " left was removed: the index missed the child");
            Map<String, String> now = Layers.describe(r, id, true);
            if (op == Op.CREATE) {
                check(now.equals(after), "a layer whose create was killed exists but is not a whole copy of its parent:\n  "
                        + String.join("\n  ", TreeDescription.differences(after, now, 8)));
                check(BASE.equals(r.parent(id)), "its parent");
                state = "after";
            } else if (now.equals(before)) {
                state = "before";
            } else {
                check(op == Op.APPLY && now.equals(after), "the layer is neither as it was nor as the " + op + " leaves it:\n  "
                        + String.join("\n  ", TreeDescription.differences(before, now, 8)));
                state = "after";
            }
        }
        r.remove(id); // nothing half done is in the way: not busy, not unknown
        check(!r.exists(id), "removed");
        return new Outcome(op, onContent, state, timing[0], timing[1]);
    }

    private static Map<String, String> prepare(StorageDriver d, String id, boolean withContent) {
        d.create(id, BASE, CreateOptions.NONE);
        if (withContent) d.applyDiff(id, BASE, new ByteArrayInputStream(smallContent()));
        return Layers.describe(d, id, true);
    }

    /**
     * Starts the child, waits until it is ready (and has timed the operation, in an operation's first trial), lets
     * it go, and kills it after a random delay, or when it says DONE before that; {delay drawn, op time}.
     */
    private long[] killDuring(Op op, String id, SplittableRandom random) throws Exception {
        List<String> command = ChildJvm.java();
        command.addAll(List.of("-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), KillChild.class.getName(),
                driver, root.toString(), op.name().toLowerCase(), id));
        command.addAll(options);
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder output = new StringBuilder();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                    synchronized (output) {
                        output.append(l).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // killed
            }
            lines.add("EOF");
        });
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            OutputStream in = child.getOutputStream();
            awaitLine(lines, "READY", deadline, output);
            Long known = firstOpNanos.get(op);
            long cal;
            if (known == null) {
                in.write("CAL\n".getBytes(StandardCharsets.US_ASCII));
                in.flush();
                cal = Long.parseLong(awaitLine(lines, "CAL ", deadline, output).substring(4));
                firstOpNanos.put(op, cal);
            } else {
                cal = known;
            }
            long delay = (long) (random.nextDouble() * 1.5 * cal);
            in.write("GO\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            long t0 = System.nanoTime();
            // Once the child says DONE it only sleeps: a later kill finds what a kill now finds, so none waits for it.
            for (long left; (left = delay - (System.nanoTime() - t0)) > 0; ) {
                if (left <= 2_000_000) {
                    Thread.onSpinWait();
                    continue;
                }
                String l = lines.poll(left / 2_000_000, TimeUnit.MILLISECONDS);
                if (l != null && l.startsWith("DONE ")) {
                    // its operation was its first: the timing the next trial of this operation draws against
                    if (known != null) firstOpNanos.put(op, Long.parseLong(l.substring(5)));
                    break;
                }
            }
            child.destroyForcibly(); // SIGKILL
            return new long[]{delay, cal};
        } finally {
            child.destroyForcibly();
            if (!child.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("the child did not die after SIGKILL");
        }
    }

    /** The child's next line starting with {@code prefix}; fails with its output when it exits or times out first. */
    private static String awaitLine(LinkedBlockingQueue<String> lines, String prefix, long deadline, StringBuilder output)
            throws InterruptedException {
        for (String l; ; ) {
            l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null || l.equals("EOF")) {
                synchronized (output) {
                    throw new AssertionError("the child never said " + prefix.strip() + " (" + (l == null ? "timed out" : "it exited") + "):\n" + output);
                }
            }
            if (l.startsWith(prefix)) return l;
        }
    }

    /** Entries under {@code home} with a hidden component (not the kit's {@code .strata}) and a name holding {@code id}. */
    private static List<Path> hiddenEntriesNaming(Path home, String id) throws IOException {
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(home)) {
            return all.filter(p -> {
                Path rel = home.relativize(p);
                boolean hidden = false, naming = false;
                for (Path c : rel) {
                    String n = c.toString();
                    hidden |= n.startsWith(".") && !n.equals(DriverKit.STATE_DIR);
                    naming |= n.contains(id);
                }
                return hidden && naming && !rel.startsWith(DriverKit.STATE_DIR);
            }).limit(8).toList();
        }
    }

    /** Every entry under {@code home} named {@code id}, but in a run directory kept inside the home. */
    private static List<Path> entriesNamed(Path home, String id) throws IOException {
        Path run = RunDirectory.forHome(home);
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(home)) {
            return all.filter(p -> !p.startsWith(run) && p.getFileName().toString().equals(id)).limit(8).toList();
        }
    }

    private static boolean refusesToRemove(StorageDriver d, String id) {
        try {
            d.remove(id);
            return false;
        } catch (LayerBusyException e) {
            return true;
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }
}
