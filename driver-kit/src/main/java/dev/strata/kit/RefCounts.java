package dev.strata.kit;

import dev.strata.nativeio.PosixFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Per-layer reference counts that hold across threads, across processes (the CLI runs one per command) and
 * across a crash. Each id with a count has a small file under {@code dir} ({@link CountFile}); no file is a count of
 * 0. Until a process maps it, the count is the file's size, read and set under the lock; once mapped shared, it is a
 * word in memory that every process that maps it sees. A thread lock plus an {@code flock} per stripe of ids
 * serialise the changes that mount or unmount; the mount action runs under that lock, so two callers never mount
 * the same layer twice.
 *
 * <p>The common case costs no system call. Once this instance has mapped an id (at its third use here, or at once
 * when another process has mapped it: mapping costs more than a read and a write of a count used once or twice) and
 * checked it against the mount table, a get of a layer that is mounted already (or needs no mount) and a put that
 * is not the last one change the word with one compare-and-set. Until any process maps it, a count is read and
 * written under the lock, as nobody changes it without. The first and the last reference of a layer that needs a mount take the lock and set the word's
 * BUSY bit around the mount or unmount, which sends every other caller to the lock.
 *
 * <p>A count is reconciled with reality through {@code isMounted} (null when the driver does not mount) whenever it
 * cannot be trusted: the first time this instance meets the id (a count left by a reboot, a mount a killed process
 * made but did not count), and when the lock holder finds the BUSY bit set, which only a process killed in the middle
 * of a mount or unmount leaves. A stale count starts again at zero; a mount nobody counted is adopted instead of
 * being mounted twice.
 */
public final class RefCounts {
    /** An action run under the id's lock. */
    @FunctionalInterface
    public interface Action {
        void run();
    }

    /** What get needs to know about a layer, asked once per id: the directory get returns, and whether it must be mounted. */
    public record Layer(Path root, boolean needsMount) {
    }

    /** Ids kept mapped in this instance; past this many, the others are mapped per use (correct, not free). */
    private static final int CACHED = 8192;
    /**
     * An id is mapped at its third locked use in this instance: mapping and first touching a count costs ~30-40 µs,
     * more than the pread and pwrite of the old way, and most ids (a create, get, put, remove) are used once or twice.
     */
    private static final int MAP_AT = 3;
    private static final int STRIPES = 64;

    private final Path dir;
    private final Predicate<String> isMounted;
    private final Function<String, Layer> layers;
    private final Flock[] stripes = new Flock[STRIPES];
    /** The ids this instance has mapped and checked: their count is trusted until its file says otherwise. */
    private final ConcurrentHashMap<String, CountFile> known = new ConcurrentHashMap<>();
    /** Locked uses of ids this instance has not mapped yet. */
    private final ConcurrentHashMap<String, Integer> uses = new ConcurrentHashMap<>();

    public RefCounts(Path dir, Predicate<String> isMounted) {
        this(dir, isMounted, null);
    }

    /** @param layers what get needs about an existing layer (null: every layer needs a mount, get computes its root) */
    public RefCounts(Path dir, Predicate<String> isMounted, Function<String, Layer> layers) {
        this.dir = dir.toAbsolutePath().normalize();
        this.isMounted = isMounted;
        this.layers = layers;
        // kept open: taken on the first and last reference, on a tmpfs (RunDirectory) nobody unmounts; release() closes them
        for (int i = 0; i < STRIPES; i++) stripes[i] = Flock.keptOpen(this.dir.resolve(".lock-" + i));
    }

    /** Closes the stripes' kept descriptors and drops the mapped counts (the driver's cleanup); the next use opens them again. */
    public void release() {
        for (Flock f : stripes) f.release();
        for (String id : known.keySet()) {
            CountFile c = known.remove(id);
            if (c != null) c.close();
        }
        uses.clear();
    }

    // ------------------------------------------------------------------------------------- without the lock

    /**
     * Takes a reference without a lock or a system call when that changes no mount: the layer is known here, and it
     * is mounted already or needs no mount. Returns its root, or null when the caller must take the locked path.
     */
    public Path tryAcquire(String id) {
        CountFile c = known.get(id);
        if (c == null || c.layer == null) return null;
        return c.tryAdd(c.layer.needsMount() ? 1 : 0, 1) ? c.layer.root() : null;
    }

    /** Drops a reference without a lock when it is not the last of a mounted layer; false when the caller must lock. */
    public boolean tryRelease(String id) {
        CountFile c = known.get(id);
        if (c == null || c.layer == null) return false;
        return c.tryAdd(c.layer.needsMount() ? 2 : 1, -1) || (!c.layer.needsMount() && c.isZero());
    }

    /**
     * Whether this instance knows the id: its count file is mapped, checked and alive. Under the id's lock that means
     * the layer exists, since a remove forgets the count (under the same lock) before anything else.
     */
    public boolean knows(String id) {
        CountFile c = known.get(id);
        return c != null && c.alive();
    }

    /** The root {@link Layer} gave for a known id, else null. */
    public Path root(String id) {
        CountFile c = known.get(id);
        return c == null || c.layer == null ? null : c.layer.root();
    }

    // ------------------------------------------------------------------------------------- under the lock

    /** Takes a reference; runs {@code onFirst} (the mount) when the count goes from 0 to 1. Returns the new count. */
    public int acquire(String id, Action onFirst) {
        return acquire(id, onFirst, () -> {
            if (isMounted == null || !isMounted.test(id)) onFirst.run();
        });
    }

    /**
     * {@link #acquire(String, Action)}, where a count that cannot be trusted (met here for the first time, or left by
     * a kill) is 0: then {@code unlessMounted} runs instead of {@code isMounted} and {@code onFirst}. It must mount
     * unless the layer is mounted already (a mount nobody counted is adopted, not made twice); a storage may know
     * both in fewer calls than asking, then mounting (a get's first reference to a new layer).
     */
    public int acquire(String id, Action onFirst, Action unlessMounted) {
        return withLock(id, () -> {
            UnmappedCount u = unmapped(id, true);
            if (u != null) return u.acquire(isMounted == null ? null : () -> isMounted.test(id), onFirst, unlessMounted);
            CountFile c = open(id);
            try {
                while (true) {
                    long w = c.word();
                    int n = CountFile.count(w);
                    if (!c.suspect(w)) {
                        if (n > 0 || !c.needsMount()) {
                            if (c.tryAdd(0, 1)) return n + 1;
                            continue; // a caller without the lock changed it meanwhile
                        }
                        if (!c.setBusy(w)) continue;
                        try {
                            onFirst.run();
                        } catch (RuntimeException | Error e) {
                            c.set(w); // the count stays as it was
                            throw e;
                        }
                        c.set(1);
                        return 1;
                    }
                    if (!c.setBusy(w)) continue;
                    try {
                        if (n == 0) {
                            unlessMounted.run();
                        } else if (isMounted != null && !isMounted.test(id)) {
                            n = 0; // stale: left by a crash, a reboot, or an unmount behind our back
                            onFirst.run();
                        }
                    } catch (RuntimeException | Error e) {
                        c.set(CountFile.count(w)); // as it was, minus the BUSY bit: the next one checks again
                        c.checked = false;
                        throw e;
                    }
                    c.set(n + 1);
                    c.checked = true;
                    return n + 1;
                }
            } finally {
                c.close();
            }
        });
    }

    /** Drops a reference; runs {@code onLast} (the unmount) when the count reaches 0. Returns the new count. */
    public int release(String id, Action onLast) {
        return release(id, () -> { }, onLast);
    }

    /**
     * {@link #release}, running {@code requireExists} (which throws for a layer that does not exist) first unless the
     * count proves the layer exists: a live count this instance maps, or a live record in the id's file. Only a get
     * makes a record, after checking the layer exists, and a remove forgets the count under the same lock before the
     * layer goes, so a live record means the layer is there (a put's existence check costs nothing when it is held).
     */
    public int release(String id, Runnable requireExists, Action onLast) {
        return release(id, requireExists, onLast, () -> {
            if (isMounted == null || isMounted.test(id)) onLast.run();
        });
    }

    /**
     * {@link #release(String, Runnable, Action)}, where a count that cannot be trusted is at most 1: then
     * {@code ifMounted} runs instead of {@code isMounted} and {@code onLast}. It must unmount if mounted; a storage
     * whose unmount finds out by itself (overlay's umount2) does it in fewer calls than asking first.
     */
    public int release(String id, Runnable requireExists, Action onLast, Action ifMounted) {
        return withLock(id, () -> {
            UnmappedCount u = unmapped(id, false);
            if (u != null) {
                if (!u.provesExistence()) {
                    try {
                        requireExists.run();
                    } catch (RuntimeException | Error e) {
                        u.done();
                        throw e;
                    }
                }
                return u.release(isMounted == null ? null : () -> isMounted.test(id), ifMounted);
            }
            if (!knows(id)) requireExists.run();
            CountFile c = open(id);
            try {
                while (true) {
                    long w = c.word();
                    int n = CountFile.count(w);
                    if (!c.suspect(w)) {
                        if (n > 1 || (n == 1 && !c.needsMount())) {
                            if (c.tryAdd(c.needsMount() ? 2 : 1, -1)) return n - 1;
                            continue;
                        }
                        if (n == 0 && !c.needsMount()) return 0;
                        if (!c.setBusy(w)) continue;
                        try {
                            onLast.run(); // not mounted is no error
                        } catch (RuntimeException | Error e) {
                            c.set(w);
                            throw e;
                        }
                        c.set(0);
                        return 0;
                    }
                    if (!c.setBusy(w)) continue;
                    int left;
                    try {
                        if (n <= 1) {
                            ifMounted.run();
                            left = 0;
                        } else {
                            // not mounted: someone unmounted it behind our back
                            left = isMounted == null || isMounted.test(id) ? n - 1 : 0;
                        }
                    } catch (RuntimeException | Error e) {
                        c.set(CountFile.count(w));
                        c.checked = false;
                        throw e;
                    }
                    c.set(left);
                    c.checked = true;
                    return left;
                }
            } finally {
                c.close();
            }
        });
    }

    /**
     * Runs {@code body} under the id's lock with every caller sent to the lock meanwhile, so the count cannot change
     * while it runs (an apply that refuses a layer in use, then replaces its content).
     */
    public <T> T exclusive(String id, Supplier<T> body) {
        return withLock(id, () -> {
            int fd = LockFiles.openExisting(dir.resolve(id));
            if (fd == LockFiles.MISSING) return body.get(); // nobody has counted it: every caller takes the lock to do so
            boolean mapped;
            try {
                mapped = CountFile.mappedBySomeone(CountFile.prepare(fd, dir.resolve(id)));
            } finally {
                LockFiles.close(fd);
            }
            if (!mapped) return body.get(); // nobody changes it without the lock
            CountFile c = CountFile.openExisting(dir.resolve(id));
            if (c == null) return body.get();
            try {
                long w = c.word();
                boolean flagged = CountFile.flagged(w); // left by a kill: stays, so the next holder checks the mount table
                while (!flagged && !c.setBusy(w)) flagged = CountFile.flagged(w = c.word());
                try {
                    return body.get();
                } finally {
                    if (!flagged) c.set(CountFile.count(c.word())); // a kill in body leaves the bit, for the same reason
                }
            } finally {
                c.close();
            }
        });
    }

    /** The current count, reconciled with the mount table. */
    public int count(String id) {
        return withLock(id, () -> {
            CountFile cached = known.get(id);
            long w;
            if (cached != null && cached.alive()) {
                w = cached.word();
            } else {
                int fd = LockFiles.openExisting(dir.resolve(id));
                if (fd == LockFiles.MISSING) return 0;
                try {
                    w = CountFile.prepare(fd, dir.resolve(id));
                } finally {
                    LockFiles.close(fd);
                }
            }
            if (CountFile.dead(w)) return 0;
            int n = CountFile.count(w);
            if (isMounted != null && n > 0 && !isMounted.test(id)) return 0;
            return n;
        });
    }

    /** The ids that have a count (possibly 0), for a cleanup that must visit every layer it counted. */
    public java.util.List<String> ids() {
        java.util.List<String> out = new java.util.ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.startsWith(".")) out.add(n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Where the counts are kept. */
    public Path directory() {
        return dir;
    }

    /**
     * Forgets an id (a remove, first of all, or a cleanup): its word is marked dead, so every process that has it
     * mapped goes to the lock, then its file goes. Call under {@link #withLock}.
     */
    public void forget(String id) {
        uses.remove(id);
        CountFile cached = known.remove(id);
        if (cached != null && cached.alive()) {
            cached.kill();
        } else {
            int fd = LockFiles.openExisting(dir.resolve(id));
            if (fd == LockFiles.MISSING) return; // a count of 0 that nobody maps: nothing to forget
            try {
                CountFile.write(fd, CountFile.DEAD_WORD, dir.resolve(id)); // seen by whoever has it mapped
            } finally {
                LockFiles.close(fd);
            }
        }
        PosixFiles.unlinkIfExists(dir.resolve(id));
    }

    /**
     * Runs {@code body} holding the id's lock against other threads and other processes. Reentrant within a
     * thread, so the kit may hold it around remove and still call {@link #release}. Locks are striped over a
     * fixed set of lock files that are never deleted, so a count file can be removed without racing a waiter.
     */
    public <T> T withLock(String id, Supplier<T> body) {
        return stripes[Math.floorMod(id.hashCode(), STRIPES)].locked(body);
    }

    /**
     * The id's count file read ({@code create}: made if missing) when it is not to be mapped yet: this instance has
     * not mapped it and it is one of its first uses here ({@link UnmappedCount#read} says whether a process has).
     * Null when it is to be mapped. Under the lock.
     */
    private UnmappedCount unmapped(String id, boolean create) {
        CountFile c = known.get(id);
        if (c != null && c.alive()) return null;
        boolean room = known.size() < CACHED;
        if (room && uses.merge(id, 1, Integer::sum) >= MAP_AT) return null;
        return UnmappedCount.read(dir.resolve(id), create);
    }

    /** The id's count file, mapped: the one this instance knows, or a new mapping (kept when there is room). Under the lock. */
    private CountFile open(String id) {
        CountFile c = known.get(id);
        if (c != null) {
            if (c.alive()) return c;
            known.remove(id, c); // forgotten by someone (a remove, another process's cleanup): a new file
            c.close();
        }
        boolean keep = known.size() < CACHED;
        c = CountFile.open(dir.resolve(id), !keep);
        if (layers != null) {
            try {
                c.layer = layers.apply(id);
            } catch (RuntimeException e) {
                c.close();
                throw e;
            }
        }
        if (keep) {
            known.put(id, c);
            uses.remove(id);
        }
        return c;
    }
}
