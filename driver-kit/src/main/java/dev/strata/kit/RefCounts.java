package dev.strata.kit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Per-layer reference counts that hold across threads, across processes (the CLI runs one per command) and
 * across restarts. Each id has a small file under {@code dir} holding its count; a thread lock plus an
 * {@code flock} serialise every change. The mount action runs under the same lock, so two callers
 * never mount the same layer twice.
 *
 * <p>A persisted count is reconciled with reality through {@code isMounted} (null when the driver does not
 * mount): a count left by a crash or a reboot for a layer that is no longer mounted starts again at zero, and a
 * mount nobody counted is adopted instead of being mounted twice.
 */
public final class RefCounts {
    /** An action run under the id's lock. */
    @FunctionalInterface
    public interface Action {
        void run();
    }

    private final Path dir;
    private final Predicate<String> isMounted;
    private static final int STRIPES = 64;
    private final Flock[] stripes = new Flock[STRIPES];

    public RefCounts(Path dir, Predicate<String> isMounted) {
        this.dir = dir.toAbsolutePath().normalize();
        this.isMounted = isMounted;
        // kept open: taken on every get and put, on a tmpfs (RunDirectory) nobody unmounts; release() closes them
        for (int i = 0; i < STRIPES; i++) stripes[i] = Flock.keptOpen(this.dir.resolve(".lock-" + i));
    }

    /** Closes the stripes' kept descriptors (the driver's cleanup); the next use opens them again. */
    public void release() {
        for (Flock f : stripes) f.release();
    }

    /** Takes a reference; runs {@code onFirst} (the mount) when the count goes from 0 to 1. Returns the new count. */
    public int acquire(String id, Action onFirst) {
        return withLock(id, () -> {
            int fd = openCount(id);
            try {
                int n = read(fd, id);
                boolean mounted = isMounted == null ? n > 0 : isMounted.test(id);
                if (n > 0 && !mounted) n = 0;          // stale: left by a crash or a reboot
                if (n == 0 && !mounted) onFirst.run();  // if this throws, the count stays as it was
                write(fd, n + 1, id);
                return n + 1;
            } finally {
                LockFiles.close(fd);
            }
        });
    }

    /** Drops a reference; runs {@code onLast} (the unmount) when the count reaches 0. Returns the new count. */
    public int release(String id, Action onLast) {
        return withLock(id, () -> {
            int fd = openCount(id);
            try {
                int n = read(fd, id);
                boolean mounted = isMounted == null || isMounted.test(id); // asked once: a put is two system calls fewer
                if (!mounted && n > 0) n = 1;  // someone unmounted it behind our back
                if (n <= 1) {
                    if (mounted) onLast.run();
                    write(fd, 0, id);
                    return 0;
                }
                write(fd, n - 1, id);
                return n - 1;
            } finally {
                LockFiles.close(fd);
            }
        });
    }

    /** The current count, reconciled with the mount table. */
    public int count(String id) {
        return withLock(id, () -> {
            int n = read(id);
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

    /** Forgets an id (after its layer is removed). Call under {@link #withLock}. */
    public void forget(String id) {
        LockFiles.unlink(file(id));
    }

    /**
     * Runs {@code body} holding the id's lock against other threads and other processes. Reentrant within a
     * thread, so the kit may hold it around remove and still call {@link #release}. Locks are striped over a
     * fixed set of lock files that are never deleted, so a count file can be removed without racing a waiter.
     */
    public <T> T withLock(String id, Supplier<T> body) {
        return stripes[Math.floorMod(id.hashCode(), STRIPES)].locked(body);
    }

    /** The count, read in place (a missing or unreadable file is 0), for {@link #count}. */
    private int read(String id) {
        if (!LockFiles.exists(file(id))) return 0; // the usual answer: no exception

        try {
            int fd = openCount(id);
            try {
                return read(fd, id);
            } finally {
                LockFiles.close(fd);
            }
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** acquire and release read and rewrite the count through one open descriptor: open, pread, pwrite, close. */
    private int openCount(String id) {
        return LockFiles.openOrCreate(file(id));
    }

    private int read(int fd, String id) {
        byte[] b = new byte[16];
        int len = LockFiles.pread(fd, b, file(id).toString());
        int n = 0;
        boolean any = false;
        for (int i = 0; i < len; i++) {
            byte c = b[i];
            if (c >= '0' && c <= '9') {
                n = n * 10 + (c - '0');
                any = true;
            } else if (c != ' ' && c != '\n') {
                return 0; // not a count: start again
            }
        }
        return any ? n : 0;
    }

    /** Rewrites the count in place at a fixed width: no truncate, so the file's size never changes after its first write. */
    private void write(int fd, int n, String id) {
        byte[] digits = new byte[11]; // "%010d\n", without a Formatter on the get/put path
        for (int i = 9, v = n; i >= 0; i--, v /= 10) digits[i] = (byte) ('0' + v % 10);
        digits[10] = '\n';
        LockFiles.pwrite(fd, digits, file(id).toString());
    }

    private Path file(String id) {
        return dir.resolve(id);
    }
}
