package dev.strata.kit;

import dev.strata.nativeio.PosixFiles;

import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * A count of {@link RefCounts} that no process maps, read and changed under the id's lock: no file is 0, a file made
 * by a get keeps the count as its size ({@link CountFile#SPARSE} + n, no data: one truncate, no tmpfs page), and a
 * record or an older Strata's text count is read and written in place. Every holder checks the mount table (so does
 * the first use of a mapping), so no BUSY bit is needed around a mount or unmount: a kill in one leaves the old count,
 * and the next holder adopts or forgets the mount.
 *
 * <p>{@code fd} is open for {@code RECORD} and {@code OTHER} (a text count, or a file a kill left
 * empty), which held {@code len} bytes.
 */
record UnmappedCount(Path file, int fd, long word, int len, Kind kind) {
    /** What the file is: none, one this use just made, a count kept as the size, a record, anything else. */
    enum Kind { NONE, MADE, SIZE, RECORD, OTHER }

    /**
     * The count file, read ({@code create}: made if missing), or null when a process has mapped it. A get of an id
     * with no count is one mknodat (then one truncate); a put of a count kept as the size is one statx. Under the
     * id's lock.
     */
    static UnmappedCount read(Path file, boolean create) {
        if (create && LockFiles.createEmpty(file)) return new UnmappedCount(file, -1, 0, 0, Kind.MADE);
        long size = LockFiles.size(file);
        if (size < 0 && !create) return new UnmappedCount(file, -1, 0, 0, Kind.NONE);
        if (size > CountFile.SPARSE) return new UnmappedCount(file, -1, CountFile.sparse(size), 0, Kind.SIZE);
        int fd = create ? LockFiles.openOrCreate(file) : LockFiles.openExisting(file);
        if (fd == LockFiles.MISSING) return new UnmappedCount(file, -1, 0, 0, Kind.NONE);
        boolean ok = false;
        try {
            byte[] b = new byte[32];
            int len = LockFiles.pread(fd, b, file.toString());
            long w = CountFile.parse(b, len);
            ok = !CountFile.mappedBySomeone(w);
            return ok ? new UnmappedCount(file, fd, w, len, CountFile.isRecord(b, len) ? Kind.RECORD : Kind.OTHER) : null;
        } finally {
            if (!ok) LockFiles.close(fd);
        }
    }

    /**
     * Takes a reference: at 0, {@code unlessMounted} (mount unless mounted); above, {@code onFirst} when nothing is
     * mounted after all (a stale count). {@code isMounted} null: the storage never mounts.
     */
    int acquire(BooleanSupplier isMounted, RefCounts.Action onFirst, RefCounts.Action unlessMounted) {
        int n = count();
        try {
            if (n == 0) {
                unlessMounted.run();
            } else if (isMounted != null && !isMounted.getAsBoolean()) {
                n = 0;
                onFirst.run();
            }
            write(n + 1);
        } catch (RuntimeException | Error e) {
            abandon();
            throw e;
        }
        done();
        return n + 1;
    }

    /**
     * Drops a reference: at the last one (or none), {@code ifMounted} (unmount if mounted); above, the count goes
     * to 0 when nothing is mounted after all (a stale count). {@code isMounted} null: the storage never mounts.
     */
    int release(BooleanSupplier isMounted, RefCounts.Action ifMounted) {
        int n = count(), left;
        try {
            if (n <= 1) {
                ifMounted.run();
                left = 0;
            } else {
                left = isMounted == null || isMounted.getAsBoolean() ? n - 1 : 0;
            }
            write(left);
        } catch (RuntimeException | Error e) {
            abandon();
            throw e;
        }
        done();
        return left;
    }

    /** A count written by a get, which checked that the layer exists, and not forgotten by a remove since. */
    boolean provesExistence() {
        return kind == Kind.SIZE || (kind == Kind.RECORD && !CountFile.dead(word));
    }

    private int count() {
        return CountFile.dead(word) ? 0 : CountFile.count(word);
    }

    /**
     * Writes the count: 0 is no file, and a file this use made keeps it as its size (one truncate, no page).
     * Nobody has it mapped, so nobody else reads the word without the lock.
     */
    private void write(int n) {
        switch (kind) {
            case NONE -> {
                if (n > 0) throw new IllegalStateException("no count file to write " + file);
            }
            case MADE, SIZE -> {
                if (n == 0) {
                    PosixFiles.unlinkIfExists(file);
                    return;
                }
                LockFiles.truncate(file, CountFile.SPARSE + n); // by path: one call, no descriptor
            }
            case RECORD, OTHER -> {
                if (n == 0) PosixFiles.unlinkIfExists(file);
                else CountFile.write(fd, n, len, file);
            }
        }
    }

    /** Closes the file (after a failure before anything was changed, too). */
    void done() {
        if (fd >= 0) LockFiles.close(fd);
    }

    /** After a failure: the count stays as it was, and a file this use made (or found empty) goes. */
    private void abandon() {
        if ((kind == Kind.MADE || kind == Kind.OTHER) && len == 0) PosixFiles.unlinkIfExists(file);
        done();
    }
}
