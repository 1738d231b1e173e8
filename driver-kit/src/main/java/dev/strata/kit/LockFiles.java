package dev.strata.kit;

import dev.strata.api.StorageException;
import dev.strata.nativeio.FileConstants;
import dev.strata.nativeio.Libc;
import dev.strata.nativeio.Native;
import dev.strata.nativeio.Statx;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The kit's small files, through raw system calls: {@code flock(2)} on a file descriptor, and the few bytes of a
 * reference count. An flock belongs to the open file, not to the process, so closing another descriptor of the same
 * file (reading a mark's note, say) never drops it, and the kernel drops it when the process dies however it dies.
 * Java's FileLock is a POSIX record lock, which has neither property, and FileChannel costs several times the
 * system calls it makes: these run on every get and put.
 */
final class LockFiles implements FileConstants {
    private static final int EAGAIN = 11, ENOENT = 2, EEXIST = 17;
    /** {@link #tryLockExisting}: no such file; held by someone else. {@link #createLocked}: there already. */
    static final int MISSING = -1, HELD = -2, EXISTS = -3;

    private LockFiles() {
    }

    /** Opens (creating it, and its directory, if need be) and locks {@code file}, waiting for the lock. */
    static int lock(Path file) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a), path = a.allocateFrom(file.toString());
            int fd = open(st, file, path, O_RDWR | O_CREAT);
            int r;
            do {
                r = Libc.flock(st, fd, LOCK_EX);
            } while (r == -4); // EINTR
            if (r < 0) {
                Libc.close(st, fd);
                throw new SyscallException("flock", file.toString(), -r);
            }
            return fd;
        }
    }

    /**
     * Creates {@code file} (it must not exist), locks it and writes {@code content}; returns the descriptor, or
     * {@link #EXISTS} when the file is there already (a mark someone holds, or one a crash left).
     */
    static int createLocked(Path file, byte[] content) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a), path = a.allocateFrom(file.toString());
            int fd = Libc.openat(st, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL, 0644);
            if (fd == -EEXIST) return EXISTS;
            if (fd == -ENOENT) fd = open(st, file, path, O_RDWR | O_CREAT | O_EXCL); // its directory first
            if (fd < 0) throw new SyscallException("open", file.toString(), -fd);
            int r = Libc.flock(st, fd, LOCK_EX | LOCK_NB); // a new file: nobody else can hold it
            if (r < 0 || (r = (int) Libc.pwrite(st, fd, MemorySegment.ofArray(content), content.length, 0)) < 0) {
                Libc.close(st, fd);
                throw new SyscallException("flock, write", file.toString(), -r);
            }
            return fd;
        }
    }

    /**
     * Locks an existing {@code file} without waiting: its descriptor when nobody held it (the caller closes it),
     * {@link #MISSING} when there is no such file (or it was replaced while we looked), {@link #HELD} when someone
     * holds it.
     */
    static int tryLockExisting(Path file) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a), path = a.allocateFrom(file.toString());
            int fd = Libc.openat(st, AT_FDCWD, path, O_RDWR, 0);
            if (fd == -ENOENT) return MISSING;
            if (fd < 0) throw new SyscallException("open", file.toString(), -fd);
            int r = Libc.flock(st, fd, LOCK_EX | LOCK_NB);
            if (r < 0) {
                Libc.close(st, fd);
                if (r == -EAGAIN) return HELD;
                throw new SyscallException("flock", file.toString(), -r);
            }
            // still the file at that name (not removed and made anew by its owner while we looked)?
            MemorySegment mine = a.allocate(Statx.SIZE, 8), named = a.allocate(Statx.SIZE, 8);
            boolean same = Libc.statx(st, fd, a.allocateFrom(""), AT_EMPTY_PATH, mine) == 0
                    && Libc.statx(st, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, named) == 0
                    && mine.get(JAVA_LONG, Statx.INO) == named.get(JAVA_LONG, Statx.INO);
            if (!same) {
                Libc.close(st, fd);
                return MISSING;
            }
            return fd;
        }
    }

    static void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            Libc.close(Native.captureState(a), fd);
        }
    }

    /** Reads up to {@code buf.length} bytes at offset 0 of the open file; the count read. */
    static int pread(int fd, byte[] buf, String what) {
        try (Arena a = Arena.ofConfined()) {
            long n = Libc.pread(Native.captureState(a), fd, MemorySegment.ofArray(buf), buf.length, 0);
            if (n < 0) throw new SyscallException("pread", what, (int) -n);
            return (int) n;
        }
    }

    static void pwrite(int fd, byte[] buf, String what) {
        try (Arena a = Arena.ofConfined()) {
            long n = Libc.pwrite(Native.captureState(a), fd, MemorySegment.ofArray(buf), buf.length, 0);
            if (n != buf.length) throw new SyscallException("pwrite", what, n < 0 ? (int) -n : 5);
        }
    }

    /** Opens {@code file} (O_CLOEXEC), creating its directory when it is missing. */
    static int open(MemorySegment st, Path file, MemorySegment path, int flags) {
        int fd = Libc.openat(st, AT_FDCWD, path, flags, 0644);
        if (fd == -ENOENT && (flags & O_CREAT) != 0) {
            try {
                Files.createDirectories(file.getParent());
            } catch (IOException e) {
                throw new StorageException("mkdir", file.getParent().toString(), e.toString(), e);
            }
            fd = Libc.openat(st, AT_FDCWD, path, flags, 0644);
        }
        if (fd < 0) throw new SyscallException("open", file.toString(), -fd);
        return fd;
    }
}
