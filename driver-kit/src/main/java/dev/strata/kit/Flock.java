package dev.strata.kit;


import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A lock across threads and processes (the CLI runs one process per command): a reentrant thread lock shared by
 * every instance on the same file in this JVM (so the threads of one process queue in Java, not in the kernel), then
 * an {@code flock(2)} on the file ({@link LockFiles}). The file is opened per use, not kept: an open file would pin
 * the filesystem it is on. Lock files are never deleted, so nobody waits on a file that is about to go.
 */
public final class Flock {
    // Static: two driver instances on one home in one JVM (a restart in a test) must exclude each other.
    private static final ConcurrentHashMap<Path, ReentrantLock> THREAD_LOCKS = new ConcurrentHashMap<>();

    private final Path file;
    private final ReentrantLock lock;

    public Flock(Path file) {
        this.file = file.toAbsolutePath().normalize();
        this.lock = THREAD_LOCKS.computeIfAbsent(this.file, k -> new ReentrantLock());
    }

    /** Runs {@code body} holding the lock; reentrant within a thread. */
    public <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            if (lock.getHoldCount() > 1) return body.get();
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
}
