package dev.strata.driver.devmapper;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Serialises changes to one pool's devices and metadata across threads and processes (the CLI runs one process
 * per command): a reentrant thread lock shared by every instance on the same home in this JVM, then an flock on
 * {@code metadata/.lock}. Everything a transaction reads (pool transaction id, id map, device files) is read
 * under it, so nothing is cached across calls that another process could change.
 */
final class PoolLock {
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final Path file;
    private final ReentrantLock lock;

    PoolLock(Path file) {
        this.file = file.toAbsolutePath().normalize();
        this.lock = LOCKS.computeIfAbsent(this.file, k -> new ReentrantLock());
    }

    <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            if (lock.getHoldCount() > 1) return body.get();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return body.get();
            } catch (IOException e) {
                throw new StorageException("lock", file.toString(), e.toString(), e);
            }
        } finally {
            lock.unlock();
        }
    }

    void locked(Runnable body) {
        locked(() -> {
            body.run();
            return null;
        });
    }

    boolean heldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }
}
