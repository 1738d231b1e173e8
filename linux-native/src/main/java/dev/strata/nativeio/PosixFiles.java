package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * File calls relative to a directory descriptor (the *at family), openat2 with its RESOLVE_* confinement,
 * statx, and the copy primitives (copy_file_range, SEEK_DATA/SEEK_HOLE), throwing a {@link SyscallException} that
 * names the call and the path: the throwing layer over {@link Libc}. A null {@link Fd} directory means the current
 * directory (AT_FDCWD).
 */
public final class PosixFiles implements FileConstants {
    public static final long FICLONE = 0x40049409L;

    private PosixFiles() {
    }

    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    public static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
    }

    public static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
    }

    private static int dirfd(Fd dir) {
        return dir == null ? AT_FDCWD : dir.fd();
    }

    private static String where(Fd dir, String path) {
        if (dir == null) return path;
        return path.isEmpty() ? dir.what() : dir.what() + "/" + path;
    }

    /** openat(2). */
    public static Fd openat(Fd dir, String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.openat(st, dirfd(dir), a.allocateFrom(path), flags, mode);
            if (r < 0) throw new SyscallException("openat", where(dir, path), -r);
            return new Fd(r, where(dir, path));
        }
    }

    public static Fd open(Path path, int flags, int mode) {
        return openat(null, path.toString(), flags, mode);
    }

    /**
     * The bytes of a small file (at most {@code max}), or null when it or a directory on its path is missing: one
     * open, read and close, for a file read on every mount (an overlay layer's {@code lower}), where the JDK's channel,
     * its cleaner and a separate existence check cost more than the system calls themselves.
     */
    public static byte[] readSmall(Path path, int max) {
        return readSmall(path.toString(), max);
    }

    /** {@link #readSmall(Path, int)} of a path given as a string. */
    public static byte[] readSmall(String where, int max) {
        CallScratch s = CallScratch.take();
        MemorySegment st = s.errno;
        int fd = Libc.openat(st, AT_FDCWD, s.cString(where), O_RDONLY | O_CLOEXEC, 0);
        if (fd == -Errno.ENOENT || fd == -Errno.ENOTDIR) return null;
        if (fd < 0) throw new SyscallException("open", where, -fd);
        try {
            // into the scratch first (a lower file is 28 bytes a layer), then one array of the exact size
            MemorySegment buf = s.buffer(Math.min(max, 4096) + 1L);
            long n = 0;
            while (true) {
                if (n == buf.byteSize()) {
                    if (n > max) throw new SyscallException("read", where, Errno.EFBIG, "over " + max + " bytes");
                    MemorySegment bigger = s.buffer(Math.min((long) max + 1, 2 * buf.byteSize()));
                    MemorySegment.copy(buf, 0, bigger, 0, n);
                    buf = bigger;
                }
                long r = Libc.read(st, fd, buf.asSlice(n), buf.byteSize() - n);
                if (r == -Errno.EINTR) continue;
                if (r < 0) throw new SyscallException("read", where, (int) -r);
                if (r == 0) break;
                n += r;
            }
            if (n > max) throw new SyscallException("read", where, Errno.EFBIG, "over " + max + " bytes");
            byte[] out = new byte[(int) n];
            MemorySegment.copy(buf, JAVA_BYTE, 0, out, 0, (int) n);
            return out;
        } finally {
            Libc.close(st, fd);
        }
    }

    /**
     * openat2(2): opens {@code path} relative to {@code dir} with RESOLVE_* confinement, e.g.
     * {@link #RESOLVE_IN_ROOT} so that {@code ..} and absolute symlinks cannot leave {@code dir}.
     */
    public static Fd openat2(Fd dir, String path, int flags, int mode, long resolve) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.openat2(st, dirfd(dir), a.allocateFrom(path), a.allocate(24, 8), flags, mode, resolve);
            if (r < 0) throw new SyscallException("openat2", where(dir, path), -r);
            return new Fd(r, where(dir, path));
        }
    }

    /** mknodat(2): {@code mode} includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
    public static void mknodat(Fd dir, String path, int mode, long dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.mknodat(st, dirfd(dir), a.allocateFrom(path), mode, dev);
            if (r < 0) throw new SyscallException("mknodat", where(dir, path), -r);
        }
    }

    public static void mknod(Path path, int mode, long dev) {
        mknodat(null, path.toString(), mode, dev);
    }

    public static void mkdirat(Fd dir, String path, int mode) {
        int e = tryMkdirat(dir, path, mode);
        if (e != 0) throw new SyscallException("mkdirat", where(dir, path), e);
    }

    /** mkdirat(2), returning 0 or the errno: EEXIST is a normal answer for a mount point a get makes every time. */
    public static int tryMkdirat(Fd dir, String path, int mode) {
        CallScratch s = CallScratch.take();
        return -Libc.mkdirat(s.errno, dirfd(dir), s.cString(path), mode);
    }

    /** symlinkat(2): makes {@code path} (relative to dir) a symlink holding {@code target}. */
    public static void symlinkat(String target, Fd dir, String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.symlinkat(st, a.allocateFrom(target), dirfd(dir), a.allocateFrom(path));
            if (r < 0) throw new SyscallException("symlinkat", where(dir, path), -r);
        }
    }

    /** linkat(2): a hard link {@code newPath} to {@code oldPath}. */
    public static void linkat(Fd oldDir, String oldPath, Fd newDir, String newPath, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.linkat(st, dirfd(oldDir), a.allocateFrom(oldPath), dirfd(newDir), a.allocateFrom(newPath), flags);
            if (r < 0) throw new SyscallException("linkat", where(newDir, newPath) + " -> " + where(oldDir, oldPath), -r);
        }
    }

    public static void unlinkat(Fd dir, String path, int flags) {
        int e = tryUnlinkat(dir, path, flags);
        if (e != 0) throw new SyscallException("unlinkat", where(dir, path), e);
    }

    /**
     * unlinkat(2), returning 0 or the errno instead of throwing: for callers to whom a missing entry is a normal
     * outcome on a hot path (an exception's stack trace costs more than the system call).
     */
    public static int tryUnlinkat(Fd dir, String path, int flags) {
        CallScratch s = CallScratch.take();
        return -Libc.unlinkat(s.errno, dirfd(dir), s.cString(path), flags);
    }

    /** renameat2(2) of two paths (relative to the working directory), returning 0 or the errno instead of throwing. */
    public static int tryRenameat2(String oldPath, String newPath, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            return -Libc.renameat2(st, AT_FDCWD, a.allocateFrom(oldPath), AT_FDCWD, a.allocateFrom(newPath), flags);
        }
    }

    public static void renameat2(Fd oldDir, String oldPath, Fd newDir, String newPath, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.renameat2(st, dirfd(oldDir), a.allocateFrom(oldPath), dirfd(newDir), a.allocateFrom(newPath), flags);
            if (r < 0) throw new SyscallException("renameat2", where(oldDir, oldPath) + " -> " + where(newDir, newPath), -r);
        }
    }

    /** readlinkat(2) as raw bytes decoded as UTF-8 (symlink targets may be any bytes; layers use UTF-8). */
    public static String readlinkat(Fd dir, String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment buf = a.allocate(4097);
            long r = Libc.readlinkat(st, dirfd(dir), a.allocateFrom(path), buf);
            if (r < 0) throw new SyscallException("readlinkat", where(dir, path), (int) -r);
            return new String(buf.asSlice(0, r).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /** fchownat(2); with AT_SYMLINK_NOFOLLOW it changes a symlink itself. */
    public static void fchownat(Fd dir, String path, int uid, int gid, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.fchownat(st, dirfd(dir), a.allocateFrom(path), uid, gid, flags);
            if (r < 0) throw new SyscallException("fchownat", where(dir, path), -r);
        }
    }

    public static void fchmodat(Fd dir, String path, int mode, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.fchmodat(st, dirfd(dir), a.allocateFrom(path), mode, flags);
            if (r < 0) throw new SyscallException("fchmodat", where(dir, path), -r);
        }
    }

    public static void fchmod(Fd fd, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.fchmod(st, fd.fd(), mode);
            if (r < 0) throw new SyscallException("fchmod", fd.what(), -r);
        }
    }

    /** utimensat(2) with nanosecond times; AT_SYMLINK_NOFOLLOW sets a symlink's own times. */
    public static void utimensat(Fd dir, String path, long atimeNanos, long mtimeNanos, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.utimens(st, dirfd(dir), a.allocateFrom(path), a.allocate(32, 8), atimeNanos, mtimeNanos, flags);
            if (r < 0) throw new SyscallException("utimensat", where(dir, path), -r);
        }
    }

    /** statx(2) of {@code path} relative to {@code dir}; an empty path with AT_EMPTY_PATH stats {@code dir} itself. */
    public static Stat statx(Fd dir, String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment b = a.allocate(Statx.SIZE, 8);
            int r = Libc.statx(st, dirfd(dir), a.allocateFrom(path), flags, b);
            if (r < 0) throw new SyscallException("statx", where(dir, path), -r);
            return Statx.toStat(b);
        }
    }

    /**
     * Whether anything, a dangling symlink included, is at {@code path} (a final symlink is not followed); errors
     * other than ENOENT and ENOTDIR are thrown. A process that has made the statx handle already (any driver
     * operation does) asks statx: no exception for a missing path, which is the usual answer on the hot paths (a
     * crash mark, a staging directory), and an exception's stack trace costs more than the system call. A short
     * command that has made no downcall handle ({@code strata exists}: the first costs 20-50 ms of its start-up)
     * asks the JDK's lstat, paying an exception for a missing path instead.
     */
    public static boolean lexists(Path path) {
        if (Libc.statxLinked) return lstatIfExists(path) != null;
        try {
            java.nio.file.Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return true;
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        } catch (java.io.IOException e) {
            return lstatIfExists(path) != null;
        }
    }

    /**
     * {@link #lexists(Path)} of a path given as a string, through this thread's scratch: one statx and nothing
     * allocated (a get asks whether its layer is committed every time).
     */
    public static boolean lexists(String path) {
        CallScratch s = CallScratch.take();
        MemorySegment b = s.buffer(Statx.SIZE);
        int r = Libc.statx(s.errno, AT_FDCWD, s.cString(path), AT_SYMLINK_NOFOLLOW, b);
        if (r == 0) return true;
        if (r == -Errno.ENOENT || r == -Errno.ENOTDIR) return false;
        throw new SyscallException("statx", path, -r);
    }

    /** lstat-like statx of a path, or null when nothing is there (ENOENT, ENOTDIR): one system call, no exception. */
    public static Stat lstatIfExists(Path path) {
        CallScratch s = CallScratch.take();
        MemorySegment b = s.buffer(Statx.SIZE);
        int r = Libc.statx(s.errno, AT_FDCWD, s.cString(path.toString()), AT_SYMLINK_NOFOLLOW, b);
        if (r == 0) return Statx.toStat(b);
        if (r == -Errno.ENOENT || r == -Errno.ENOTDIR) return null;
        throw new SyscallException("statx", path.toString(), -r);
    }

    /**
     * unlinkat(2) relative to {@code dir} ({@code flags}: 0, or AT_REMOVEDIR for an empty directory); nothing there
     * (ENOENT) is fine. One system call, no native allocation and no exception for a missing entry: the kit clears its
     * marks, counts and index entries with it on every create and remove.
     */
    public static void unlinkIfExists(Fd dir, String path, int flags) {
        int e = tryUnlinkat(dir, path, flags);
        if (e != 0 && e != Errno.ENOENT) throw new SyscallException((flags & AT_REMOVEDIR) != 0 ? "rmdir" : "unlink", where(dir, path), e);
    }

    /** unlink(2) of a file; nothing there (ENOENT) is fine. See {@link #unlinkIfExists(Fd, String, int)}. */
    public static void unlinkIfExists(Path path) {
        unlinkIfExists(null, path.toString(), 0);
    }

    /** lstat-like statx of a path (a final symlink is not followed). */
    public static Stat lstat(Path path) {
        return statx(null, path.toString(), AT_SYMLINK_NOFOLLOW);
    }

    /** copy_file_range(2) from the current offsets; returns bytes copied (0 at end of input). */
    public static long copyFileRange(Fd in, Fd out, long len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            long r = Libc.copyFileRange(st, in.fd(), MemorySegment.NULL, out.fd(), MemorySegment.NULL, len);
            if (r < 0) throw new SyscallException("copy_file_range", in.what() + " -> " + out.what(), (int) -r);
            return r;
        }
    }

    /** copy_file_range(2) between explicit offsets (the descriptors' own offsets are left alone). */
    public static long copyFileRange(Fd in, long inOffset, Fd out, long outOffset, long len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment offs = a.allocate(16, 8);
            offs.set(JAVA_LONG, 0, inOffset);
            offs.set(JAVA_LONG, 8, outOffset);
            long r = Libc.copyFileRange(st, in.fd(), offs, out.fd(), offs.asSlice(8), len);
            if (r < 0) throw new SyscallException("copy_file_range", in.what() + " -> " + out.what(), (int) -r);
            return r;
        }
    }

    /** lseek(2); for SEEK_DATA/SEEK_HOLE past the last data it returns -1 (ENXIO) instead of throwing. */
    public static long lseek(Fd fd, long offset, int whence) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            long r = Libc.lseek(st, fd.fd(), offset, whence);
            if (r < 0) {
                int e = (int) -r;
                if (e == Errno.ENXIO && (whence == SEEK_DATA || whence == SEEK_HOLE)) return -1;
                throw new SyscallException("lseek", fd.what(), e);
            }
            return r;
        }
    }

    public static void ftruncate(Fd fd, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.ftruncate(st, fd.fd(), size);
            if (r < 0) throw new SyscallException("ftruncate", fd.what(), -r);
        }
    }

    /** write(2) of a whole native buffer, retrying short writes. */
    public static void writeFully(Fd fd, MemorySegment buf, long len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            long off = 0;
            while (off < len) {
                long r = Libc.write(st, fd.fd(), buf.asSlice(off), len - off);
                if (r < 0) {
                    int e = (int) -r;
                    if (e == Errno.EINTR) continue;
                    throw new SyscallException("write", fd.what(), e);
                }
                off += r;
            }
        }
    }

    public static void fsync(Fd fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.fsync(st, fd.fd());
            if (r < 0) throw new SyscallException("fsync", fd.what(), -r);
        }
    }
}
