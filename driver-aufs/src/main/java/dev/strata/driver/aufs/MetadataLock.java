package dev.strata.driver.aufs;

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
 * One lock per driver home around create and remove, across threads and processes (the CLI runs one per
 * command): "the parent exists" and "nobody is stacked on this layer" must stay true until the change is made.
 * Per-layer get/put/mount locking is {@code RefCounts}'; this lock is always taken before that one, never after.
 */
final class MetadataLock {
    // Static: two driver instances on one home in one JVM must exclude each other; flock does not exclude threads.
    private static final ConcurrentHashMap<Path, ReentrantLock> THREAD_LOCKS = new ConcurrentHashMap<>();
    private final Path file;

    MetadataLock(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    <T> T with(Supplier<T> body) {
        ReentrantLock lock = THREAD_LOCKS.computeIfAbsent(file, k -> new ReentrantLock());
        lock.lock();
        try {
            if (lock.getHoldCount() > 1) return body.get();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return body.get();
            } catch (IOException e) {
                throw new StorageException("lock", file, e.toString(), e);
            }
        } finally {
            lock.unlock();
        }
    }

    void run(Runnable body) {
        with(() -> {
            body.run();
            return null;
        });
    }
}
