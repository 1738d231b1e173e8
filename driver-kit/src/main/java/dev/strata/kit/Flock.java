package dev.strata.kit;

import dev.strata.nativeio.PosixFiles;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A lock across threads and processes (the CLI runs one process per command): a reentrant thread lock shared by
 * every instance on the same file in this JVM (so the threads of one process queue in Java, not in the kernel), then
 * an {@code flock(2)} on the file ({@link LockFiles}). Lock files are never deleted, so nobody waits on a file that is
 * about to go.
 *
 * <p>By default the file is opened per use, not kept: an open file would pin the filesystem it is on. A lock
 * {@link #keptOpen} keeps its descriptor between uses (flock and unlock: two system calls, not open, flock and close),
 * for the reference counts' stripes, taken on every get and put, whose files live on a tmpfs nobody unmounts;
 * {@link #release} closes it, and the next use opens it again.
 */
public final class Flock {
    /** A file's thread lock and, for a kept-open lock, its descriptor (guarded by the thread lock). */
    private static final class Holder {
        final ReentrantLock lock = new ReentrantLock();
        int fd = -1;
    }

    // Static: two driver instances on one home in one JVM (a restart in a test) must exclude each other, and share
    // one kept descriptor (an flock belongs to the open file, so two descriptors of one JVM would exclude each other).
    private static final ConcurrentHashMap<Path, Holder> HOLDERS = new ConcurrentHashMap<>();

    private final Path file;
    private final Holder holder;
    private final boolean keepOpen;
    private final boolean recheck;

    public Flock(Path file) {
        this(file, false, false);
    }

    private Flock(Path file, boolean keepOpen, boolean recheck) {
        this.file = file.toAbsolutePath().normalize();
        this.holder = HOLDERS.computeIfAbsent(this.file, k -> new Holder());
        this.keepOpen = keepOpen;
        this.recheck = recheck;
    }

    /** A lock that keeps its file open between uses, until {@link #release}. */
    public static Flock keptOpen(Path file) {
        return new Flock(file, true, false);
    }

    /**
     * {@link #keptOpen}, for a file that may be deleted and made anew while this process keeps it (the home lock,
     * whose run directory the stale sweep deletes once the home is gone, and the home may be made again at the
     * same path): each use checks, after it has the lock, that the kept descriptor is still the file at the name,
     * and else locks the one there now, so that it excludes the processes that opened it since. Two statx a use;
     * it never makes the file's directory again (that is {@link RunDirectory}'s, with its note).
     */
    public static Flock keptOpenRechecked(Path file) {
        return new Flock(file, true, true);
    }

    /** Runs {@code body} holding the lock; reentrant within a thread. */
    public <T> T locked(Supplier<T> body) {
        ReentrantLock lock = holder.lock;
        lock.lock();
        try {
            if (lock.getHoldCount() > 1) return body.get();
            if (keepOpen || holder.fd >= 0) {
                if (holder.fd < 0) holder.fd = LockFiles.openForLock(file);
                LockFiles.flock(holder.fd, file);
                // A name with no directory any more: nobody can lock it until a process makes the run directory
                // again (with its note); until then the kept one will do, and it is looked at again next time.
                while (recheck && !LockFiles.isAt(holder.fd, file) && PosixFiles.lexists(file.getParent())) {
                    LockFiles.close(holder.fd); // drops the flock on the file nobody else can find any more
                    holder.fd = -1;
                    holder.fd = LockFiles.openForLock(file);
                    LockFiles.flock(holder.fd, file);
                }
                try {
                    return body.get();
                } finally {
                    LockFiles.unlock(holder.fd, file);
                }
            }
            int fd = LockFiles.lock(file);
            try {
                return body.get();
            } finally {
                LockFiles.close(fd); // drops the flock
            }
        } finally {
            lock.unlock();
        }
    }

    public void locked(Runnable body) {
        locked(() -> {
            body.run();
            return null;
        });
    }

    /** Closes a kept descriptor (when no thread of this JVM holds the lock); the next use opens the file again. */
    public void release() {
        holder.lock.lock();
        try {
            if (holder.fd >= 0 && holder.lock.getHoldCount() == 1) {
                LockFiles.close(holder.fd);
                holder.fd = -1;
            }
        } finally {
            holder.lock.unlock();
        }
    }
}
