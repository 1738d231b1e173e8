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
    private static final int EAGAIN = 11, ENOENT = 2, EEXIST = 17, ENOTDIR = 20;
    /** {@link #tryLockExisting}: no such file; held by someone else. {@link #createLocked}: there already. */
    static final int MISSING = -1, HELD = -2, EXISTS = -3;

    private LockFiles() {
    }

    /**
     * One thread's native scratch: the errno slot, a path buffer, two statx buffers. GC-managed (auto arena), so a
     * virtual thread's dies with it; reused, so a call allocates and frees no native memory.
     */
    private static final class Scratch {
        final MemorySegment st, path, statA, statB, empty;

        Scratch() {
            Arena a = Arena.ofAuto();
            st = Native.captureState(a);
            path = a.allocate(4097);
            statA = a.allocate(Statx.SIZE, 8);
            statB = a.allocate(Statx.SIZE, 8);
            empty = a.allocate(1);
        }

        MemorySegment path(Path p) {
            byte[] b = p.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (b.length >= 4096) throw new SyscallException("open", p.toString(), 36); // ENAMETOOLONG
            MemorySegment.copy(b, 0, path, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b.length);
            path.set(java.lang.foreign.ValueLayout.JAVA_BYTE, b.length, (byte) 0);
            return path;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Opens (creating it, and its directory, if need be) and locks {@code file}, waiting for the lock. */
    static int lock(Path file) {
        {
            Scratch x = SCRATCH.get();
            MemorySegment st = x.st, path = x.path(file);
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

    /** Opens (creating it, and its directory, if need be) {@code file} to be locked again and again ({@link Flock#keptOpen}). */
    static int openForLock(Path file) {
        Scratch x = SCRATCH.get();
        return open(x.st, file, x.path(file), O_RDWR | O_CREAT);
    }

    /** Takes the flock on an open descriptor, waiting for it. */
    static void flock(int fd, Path file) {
        int r;
        do {
            r = Libc.flock(SCRATCH.get().st, fd, LOCK_EX);
        } while (r == -4); // EINTR
        if (r < 0) throw new SyscallException("flock", file.toString(), -r);
    }

    /** Drops the flock on an open descriptor. */
    static void unlock(int fd, Path file) {
        int r = Libc.flock(SCRATCH.get().st, fd, LOCK_UN);
        if (r < 0) throw new SyscallException("flock", file.toString(), -r);
    }

    /**
     * Creates {@code file} (it must not exist), locks it and writes {@code content}; returns the descriptor, or
     * {@link #EXISTS} when the file is there already (a mark someone holds, or one a crash left).
     */
    static int createLocked(Path file, byte[] content) {
        {
            Scratch x = SCRATCH.get();
            MemorySegment st = x.st, path = x.path(file);
            int fd = Libc.openat(st, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL, 0644);
            if (fd == -EEXIST) return EXISTS;
            if (fd == -ENOENT) fd = open(st, file, path, O_RDWR | O_CREAT | O_EXCL); // its directory first
            if (fd < 0) throw new SyscallException("open", file.toString(), -fd);
            int r = Libc.flock(st, fd, LOCK_EX | LOCK_NB); // a new file: nobody else can hold it
            if (r < 0 || (content.length > 0 && (r = (int) Libc.pwrite(st, fd, MemorySegment.ofArray(content), content.length, 0)) < 0)) {
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
        {
            Scratch x = SCRATCH.get();
            MemorySegment st = x.st, path = x.path(file);
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
            if (!isAt(x, fd, path)) {
                Libc.close(st, fd);
                return MISSING;
            }
            return fd;
        }
    }

    /** Whether the open {@code fd} is still the file named {@code file}: not deleted, nor deleted and made anew. */
    static boolean isAt(int fd, Path file) {
        Scratch x = SCRATCH.get();
        return isAt(x, fd, x.path(file));
    }

    private static boolean isAt(Scratch x, int fd, MemorySegment path) {
        MemorySegment mine = x.statA, named = x.statB;
        return Libc.statx(x.st, fd, x.empty, AT_EMPTY_PATH, mine) == 0
                && Libc.statx(x.st, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, named) == 0
                && mine.get(JAVA_LONG, Statx.INO) == named.get(JAVA_LONG, Statx.INO);
    }

    static void close(int fd) {
        Libc.close(SCRATCH.get().st, fd);
    }

    /** Reads up to {@code buf.length} bytes at offset 0 of the open file; the count read. */
    static int pread(int fd, byte[] buf, String what) {
        long n = Libc.pread(SCRATCH.get().st, fd, MemorySegment.ofArray(buf), buf.length, 0);
        if (n < 0) throw new SyscallException("pread", what, (int) -n);
        return (int) n;
    }

    static void pwrite(int fd, byte[] buf, String what) {
        long n = Libc.pwrite(SCRATCH.get().st, fd, MemorySegment.ofArray(buf), buf.length, 0);
        if (n != buf.length) throw new SyscallException("pwrite", what, n < 0 ? (int) -n : 5);
    }

    /** Opens {@code file} read-write, creating it (and its directory) when missing: for a reference count. */
    static int openOrCreate(Path file) {
        Scratch x = SCRATCH.get();
        return open(x.st, file, x.path(file), O_RDWR | O_CREAT);
    }

    /**
     * Makes {@code file} empty (and its directory when missing): true, or false when it is there already. One mknodat,
     * no descriptor to close.
     */
    static boolean createEmpty(Path file) {
        Scratch x = SCRATCH.get();
        MemorySegment path = x.path(file);
        int r = Libc.mknodat(x.st, AT_FDCWD, path, S_IFREG | 0644, 0);
        if (r == -ENOENT) {
            mkdirs(file);
            r = Libc.mknodat(x.st, AT_FDCWD, path, S_IFREG | 0644, 0);
        }
        if (r == -EEXIST) return false;
        if (r < 0) throw new SyscallException("mknod", file.toString(), -r);
        return true;
    }

    /** The size of {@code file} (not followed if a symlink), or -1 when there is none. One statx. */
    static long size(Path file) {
        Scratch x = SCRATCH.get();
        int r = Libc.statx(x.st, AT_FDCWD, x.path(file), AT_SYMLINK_NOFOLLOW, x.statA);
        if (r == -ENOENT) return -1;
        if (r < 0) throw new SyscallException("statx", file.toString(), -r);
        return x.statA.get(JAVA_LONG, Statx.BYTES);
    }

    /** The size of an open file. One statx. */
    static long size(int fd, Path file) {
        Scratch x = SCRATCH.get();
        int r = Libc.statx(x.st, fd, x.empty, AT_EMPTY_PATH, x.statA);
        if (r < 0) throw new SyscallException("statx", file.toString(), -r);
        return x.statA.get(JAVA_LONG, Statx.BYTES);
    }

    /** Opens an existing {@code file} read-write; {@link #MISSING} when there is none. */
    static int openExisting(Path file) {
        Scratch x = SCRATCH.get();
        int fd = Libc.openat(x.st, AT_FDCWD, x.path(file), O_RDWR, 0);
        if (fd == -ENOENT) return MISSING;
        if (fd < 0) throw new SyscallException("open", file.toString(), -fd);
        return fd;
    }

    static void truncate(int fd, long size, Path file) {
        int r = Libc.ftruncate(SCRATCH.get().st, fd, size);
        if (r < 0) throw new SyscallException("ftruncate", file.toString(), -r);
    }

    /** Sets the size of an existing {@code file}: one truncate(2), no descriptor. */
    static void truncate(Path file, long size) {
        Scratch x = SCRATCH.get();
        int r = Libc.truncate(x.st, x.path(file), size);
        if (r < 0) throw new SyscallException("truncate", file.toString(), -r);
    }

    /** Maps the first {@code len} bytes of the open file, shared, until {@code arena} closes. */
    static MemorySegment mapShared(int fd, long len, Arena arena, Path file) {
        return Libc.mapShared(SCRATCH.get().st, fd, len, arena, file.toString());
    }

    /** Makes an empty file if none is there; its directory when that is missing. One mknodat. */
    static void touch(Path file) {
        createEmpty(file);
    }

    /**
     * Whether anything is at {@code file} (a final symlink not followed): false for ENOENT and ENOTDIR, any other
     * error throws. One statx into this thread's scratch: a mark's check runs on every get, put, create and remove.
     */
    static boolean exists(Path file) {
        Scratch x = SCRATCH.get();
        int r = Libc.statx(x.st, AT_FDCWD, x.path(file), AT_SYMLINK_NOFOLLOW, x.statA);
        if (r == 0) return true;
        if (r == -ENOENT || r == -ENOTDIR) return false;
        throw new SyscallException("statx", file.toString(), -r);
    }

    /** Opens {@code file} (O_CLOEXEC), creating its directory when it is missing. */
    private static int open(MemorySegment st, Path file, MemorySegment path, int flags) {
        int fd = Libc.openat(st, AT_FDCWD, path, flags, 0644);
        if (fd == -ENOENT && (flags & O_CREAT) != 0) {
            mkdirs(file);
            fd = Libc.openat(st, AT_FDCWD, path, flags, 0644);
        }
        if (fd < 0) throw new SyscallException("open", file.toString(), -fd);
        return fd;
    }

    private static void mkdirs(Path file) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new StorageException("mkdir", file.getParent().toString(), e.toString(), e);
        }
    }
}
