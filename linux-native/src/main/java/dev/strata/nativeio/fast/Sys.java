package dev.strata.nativeio.fast;

import dev.strata.nativeio.ErrnoCodes;
import dev.strata.nativeio.FileConstants;
import dev.strata.nativeio.Libc;
import dev.strata.nativeio.Native;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Statx;
import dev.strata.nativeio.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The system calls of archive apply and diff, fd-relative, on raw names (ISO-8859-1 strings: one char per byte): the
 * allocation-free layer over {@link Libc}, whose handles every layer shares. One instance per thread: it owns a
 * confined arena with the errno slot and name buffers that every call reuses, so a call allocates nothing. Calls
 * return the result or {@code -errno} instead of throwing, because "exists" and "missing" are normal answers on the
 * hot path; {@link #check} turns a failure into a {@link SyscallException}. Constants come from {@link FileConstants}
 * and {@link ErrnoCodes}, so a static import of {@code Sys.*} names them.
 *
 * <p>read/write take Java arrays directly (critical downcalls), so file data is never copied to native memory.
 */
public final class Sys implements AutoCloseable, FileConstants, ErrnoCodes {
    private static final int PATH_MAX = 4096;

    private static final class H {
        static final MethodHandle GETEGID = Native.plainCall("getegid", FunctionDescriptor.of(JAVA_INT));
    }

    final Arena arena = Arena.ofConfined();
    final MemorySegment st = Native.captureState(arena);
    final MemorySegment p1 = arena.allocate(PATH_MAX + 64);
    final MemorySegment p2 = arena.allocate(PATH_MAX + 64);
    private final MemorySegment how = arena.allocate(24, 8);
    private final MemorySegment ts = arena.allocate(32, 8);
    private final MemorySegment sx = arena.allocate(Statx.SIZE, 8);
    /** Scratch for symlink targets and xattrs, grown on demand: most files need none, and a Sys per tree walk is common. */
    MemorySegment big = arena.allocate(PATH_MAX, 8);

    /** Extended attributes, through the same scratch memory. */
    public final XattrCalls xattr = new XattrCalls(this);

    /** The last {@link #statx} result. */
    public final StatBuf stat = new StatBuf();

    public static final class StatBuf {
        public int mode, uid, gid, rdevMajor, rdevMinor, devMajor, devMinor;
        public long nlink, ino, size, blocks, mtimeNanos;

        public int type() {
            return mode & S_IFMT;
        }
    }

    MemorySegment name(MemorySegment seg, String raw) {
        int n = raw.length();
        if (n > PATH_MAX) n = PATH_MAX + 1; // too long: let the kernel say ENAMETOOLONG on a truncated copy
        for (int i = 0; i < n && i <= PATH_MAX; i++) seg.set(JAVA_BYTE, i, (byte) raw.charAt(i));
        seg.set(JAVA_BYTE, Math.min(n, PATH_MAX + 1), (byte) 0);
        return seg;
    }

    /** Throws a {@link SyscallException} when {@code r} is negative (a -errno). */
    public static long check(long r, String call, String what) {
        if (r < 0) throw new SyscallException(call, what, (int) -r);
        return r;
    }

    public int openat(int dirfd, String name, int flags, int mode) {
        return Libc.openat(st, dirfd, name(p1, name), flags, mode);
    }

    public int openat2(int dirfd, String path, int flags, int mode, long resolve) {
        return Libc.openat2(st, dirfd, name(p1, path), how, flags, mode, resolve);
    }

    public void close(int fd) {
        Libc.close(st, fd);
    }

    private byte[] lastArray;
    private MemorySegment lastSegment;

    /** The heap segment of an array, kept for the array used last (the same 1 MiB buffer, call after call). */
    private MemorySegment heap(byte[] b) {
        if (b != lastArray) {
            lastArray = b;
            lastSegment = MemorySegment.ofArray(b);
        }
        return lastSegment;
    }

    /** read(2) into a Java array; returns bytes read, 0 at end, or -errno. */
    public long read(int fd, byte[] b, int off, int len) {
        MemorySegment seg = heap(b);
        while (true) {
            long r = Libc.read(st, fd, seg.asSlice(off, len), len);
            if (r != -EINTR) return r;
        }
    }

    /** write(2) of all {@code len} bytes from a Java array; returns 0 or -errno. */
    public int writeFully(int fd, byte[] b, int off, int len) {
        return writeFully(fd, heap(b), off, len);
    }

    /** write(2) of all {@code len} bytes at {@code off} of a native segment; returns 0 or -errno. */
    public int writeFully(int fd, MemorySegment src, long off, int len) {
        while (len > 0) {
            long r = Libc.write(st, fd, src.asSlice(off, len), len);
            if (r == -EINTR) continue;
            if (r < 0) return (int) r;
            off += r;
            len -= (int) r;
        }
        return 0;
    }

    public long lseek(int fd, long off, int whence) {
        return Libc.lseek(st, fd, off, whence);
    }

    public int ftruncate(int fd, long size) {
        return Libc.ftruncate(st, fd, size);
    }

    public int mkdirat(int dirfd, String name, int mode) {
        return Libc.mkdirat(st, dirfd, name(p1, name), mode);
    }

    public int mknodat(int dirfd, String name, int mode, long dev) {
        return Libc.mknodat(st, dirfd, name(p1, name), mode, dev);
    }

    public int symlinkat(String target, int dirfd, String name) {
        return Libc.symlinkat(st, name(p2, target), dirfd, name(p1, name));
    }

    /** linkat(2) with flags 0: a symlink target is linked itself, never followed. */
    public int linkat(int olddir, String oldName, int newdir, String newName) {
        return Libc.linkat(st, olddir, name(p2, oldName), newdir, name(p1, newName), 0);
    }

    public int unlinkat(int dirfd, String name, int flags) {
        return Libc.unlinkat(st, dirfd, name(p1, name), flags);
    }

    /** readlinkat(2) as a raw string, or null with {@link #lastErrno()} set. */
    public String readlinkat(int dirfd, String name) {
        MemorySegment path = name(p1, name);
        long r;
        while ((r = Libc.readlinkat(st, dirfd, path, big)) == big.byteSize()) big = arena.allocate(2 * r, 8); // filled: maybe cut short
        if (r < 0) {
            lastErrno = (int) -r;
            return null;
        }
        return new String(big.asSlice(0, r).toArray(JAVA_BYTE), StandardCharsets.ISO_8859_1);
    }

    private int lastErrno;

    public int lastErrno() {
        return lastErrno;
    }

    public int fchown(int fd, long uid, long gid) {
        return Libc.fchown(st, fd, (int) uid, (int) gid);
    }

    public int lchownat(int dirfd, String name, long uid, long gid) {
        return Libc.fchownat(st, dirfd, name(p1, name), (int) uid, (int) gid, AT_SYMLINK_NOFOLLOW);
    }

    public int fchmod(int fd, int mode) {
        return Libc.fchmod(st, fd, mode);
    }

    /** fchmodat(2) without flags: only for names just made that are not symlinks. */
    public int fchmodat(int dirfd, String name, int mode) {
        return Libc.fchmodat(st, dirfd, name(p1, name), mode, 0);
    }

    /** Sets atime and mtime in ns; {@code name} null means the fd itself (futimens). */
    public int utimens(int dirfd, String name, long atimeNanos, long mtimeNanos, int flags) {
        return Libc.utimens(st, dirfd, name == null ? null : name(p1, name), ts, atimeNanos, mtimeNanos, flags);
    }

    /** statx(2) into {@link #stat}; an empty name with AT_EMPTY_PATH stats the fd. Returns 0 or -errno. */
    public int statx(int dirfd, String name, int flags) {
        int r = Libc.statx(st, dirfd, name(p1, name), flags, sx);
        if (r < 0) return r;
        StatBuf s = stat;
        s.mode = Statx.mode(sx);
        s.uid = sx.get(JAVA_INT, Statx.UID);
        s.gid = sx.get(JAVA_INT, Statx.GID);
        s.nlink = Integer.toUnsignedLong(sx.get(JAVA_INT, Statx.NLINK));
        s.ino = sx.get(JAVA_LONG, Statx.INO);
        s.size = sx.get(JAVA_LONG, Statx.BYTES);
        s.blocks = sx.get(JAVA_LONG, Statx.BLOCKS);
        s.mtimeNanos = Statx.nanos(sx, Statx.MTIME);
        s.rdevMajor = sx.get(JAVA_INT, Statx.RDEV_MAJOR);
        s.rdevMinor = sx.get(JAVA_INT, Statx.RDEV_MINOR);
        s.devMajor = sx.get(JAVA_INT, Statx.DEV_MAJOR);
        s.devMinor = sx.get(JAVA_INT, Statx.DEV_MINOR);
        return 0;
    }

    /** lstat of {@code name} under {@code dirfd}: its S_IF* type, or -errno. */
    public int typeOf(int dirfd, String name) {
        int r = statx(dirfd, name, AT_SYMLINK_NOFOLLOW);
        return r < 0 ? r : stat.type();
    }

    /** One directory's entries (without "." and ".."), raw names; calls {@code sink} per entry with its d_type. */
    public interface DirSink {
        void entry(String name, int dtype);
    }

    private final MemorySegment dirents = arena.allocate(DIRENTS, 8);
    private final byte[] direntsHeap = new byte[DIRENTS];
    private static final int DIRENTS = 64 * 1024;

    /** Reads all entries of the directory open as {@code fd}; {@code sink} must not call readdir again. Returns 0 or -errno. */
    public int readdir(int fd, DirSink sink) {
        MemorySegment big = dirents;
        byte[] heap = direntsHeap; // kept: a fresh 64 KiB array per directory was a large share of a diff's garbage
        while (true) {
            long n = Libc.getdents64(st, fd, big);
            if (n < 0) return (int) n;
            if (n == 0) return 0;
            MemorySegment.copy(big, JAVA_BYTE, 0, heap, 0, (int) n);
            int p = 0;
            while (p < n) {
                int reclen = (heap[p + 16] & 0xff) | ((heap[p + 17] & 0xff) << 8);
                int dtype = heap[p + 18] & 0xff;
                int s = p + 19, e = s;
                while (e < p + reclen && heap[e] != 0) e++;
                int len = e - s;
                if (!(len == 1 && heap[s] == '.') && !(len == 2 && heap[s] == '.' && heap[s + 1] == '.')) {
                    sink.entry(new String(heap, s, len, StandardCharsets.ISO_8859_1), dtype);
                }
                p += reclen;
            }
        }
    }

    /** The path of {@code name} under an open directory, through the fd's magic link. */
    public static String procPath(int dirfd, String name) {
        return name.isEmpty() ? "/proc/self/fd/" + dirfd : "/proc/self/fd/" + dirfd + "/" + name;
    }

    public static int egid() {
        try {
            return (int) H.GETEGID.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long makedev(long major, long minor) {
        return PosixFiles.makedev(major, minor);
    }

    /** The process umask, read from /proc/self/status (reading it with umask(2) would change it for a moment). */
    public static int umask() {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (l.startsWith("Umask:")) return Integer.parseInt(l.substring(6).trim(), 8);
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // fall through
        }
        return 022;
    }

    @Override
    public void close() {
        arena.close();
    }
}
