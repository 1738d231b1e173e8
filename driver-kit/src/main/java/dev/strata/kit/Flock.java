package dev.strata.kit;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A lock across threads and processes (the CLI runs one process per command): a reentrant thread lock shared by
 * every instance on the same file in this JVM (flock does not exclude threads of one process), then an
 * {@code flock} on the file. The file is opened per use, not kept: an open file would pin the filesystem it is on.
 * Lock files are never deleted, so nobody waits on a file that is about to go.
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
            try (FileChannel ch = open(); FileLock ignored = ch.lock()) {
                return body.get();
            } catch (IOException e) {
                throw new StorageException("lock", file.toString(), e.toString(), e);
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

    private FileChannel open() throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) { // its directory is not there (yet, or any more): make it
            Files.createDirectories(file.getParent());
            return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
    }
}
