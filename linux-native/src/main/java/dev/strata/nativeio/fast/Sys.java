package dev.strata.nativeio.fast;

import dev.strata.nativeio.Native;
import dev.strata.nativeio.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The system calls of archive apply and diff, fd-relative, on raw names (ISO-8859-1 strings: one char per byte).
 * One instance per thread: it owns a confined arena with the errno slot and name buffers that every call reuses, so
 * a call allocates nothing. Calls return the result or {@code -errno} instead of throwing, because "exists" and
 * "missing" are normal answers on the hot path; {@link #check} turns a failure into a {@link SyscallException}.
 *
 * <p>read/write take Java arrays directly (critical downcalls), so file data is never copied to native memory.
 */
public final class Sys implements AutoCloseable {
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_TRUNC = 01000,
            O_NONBLOCK = 04000, O_CLOEXEC = 02000000, O_PATH = 010000000;
    // These differ between x86_64 and aarch64: one definition, in PosixFiles.
    public static final int O_DIRECTORY = dev.strata.nativeio.PosixFiles.O_DIRECTORY,
            O_NOFOLLOW = dev.strata.nativeio.PosixFiles.O_NOFOLLOW;
    public static final int O_NOATIME = 01000000;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
    public static final long RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
            RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
    public static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000,
            S_IFBLK = 060000, S_IFDIR = 040000, S_IFCHR = 020000, S_IFIFO = 010000;
    public static final int SEEK_SET = 0, SEEK_DATA = 3, SEEK_HOLE = 4;
    public static final int ENOENT = 2, EINTR = 4, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EISDIR = 21, EPERM = 1,
            ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61, EOPNOTSUPP = 95, ERANGE = 34, ENXIO = 6, ENAMETOOLONG = 36,
            EAGAIN = 11, ENOSYS = 38;
    private static final long UTIME_OMIT = (1L << 30) - 2;
    private static final int PATH_MAX = 4096;
    private static final int STATX_BASIC = 0x7ff;
    private static final long SYS_OPENAT2 = 437;

    private static final class H {
        static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
        static final Linker.Option HEAP = Linker.Option.critical(true);

        static MethodHandle call(String name, FunctionDescriptor fd, Linker.Option... more) {
            Linker.Option[] opts = new Linker.Option[more.length + 1];
            opts[0] = ERRNO;
            System.arraycopy(more, 0, opts, 1, more.length);
            return Native.LINKER.downcallHandle(Native.LIBC.findOrThrow(name), fd, opts);
        }

        static final MethodHandle OPENAT = call("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                Linker.Option.firstVariadicArg(3));
        static final MethodHandle SYSCALL4 = call("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
        static final MethodHandle CLOSE = call("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle READ = call("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), HEAP);
        static final MethodHandle WRITE = call("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), HEAP);
        static final MethodHandle LSEEK = call("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
        static final MethodHandle FTRUNCATE = call("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        static final MethodHandle MKDIRAT = call("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle MKNODAT = call("mknodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
        static final MethodHandle SYMLINKAT = call("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        static final MethodHandle LINKAT = call("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle UNLINKAT = call("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle READLINKAT = call("readlinkat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle FCHOWN = call("fchown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle FCHOWNAT = call("fchownat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle FCHMOD = call("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle FCHMODAT = call("fchmodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle FUTIMENS = call("futimens", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle UTIMENSAT = call("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle STATX = call("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle GETDENTS64 = call("getdents64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle GETEGID = Native.plainCall("getegid", FunctionDescriptor.of(JAVA_INT));
    }

    final Arena arena = Arena.ofConfined();
    final MemorySegment st = Native.captureState(arena);
    final MemorySegment p1 = arena.allocate(PATH_MAX + 64);
    final MemorySegment p2 = arena.allocate(PATH_MAX + 64);
    private final MemorySegment how = arena.allocate(24, 8);
    private final MemorySegment ts = arena.allocate(32, 8);
    private final MemorySegment sx = arena.allocate(256, 8);
    MemorySegment big = arena.allocate(64 * 1024, 8);

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

    int errno() {
        return Native.errno(st);
    }

    MemorySegment name(MemorySegment seg, String raw) {
        int n = raw.length();
        if (n > PATH_MAX) n = PATH_MAX + 1; // too long: let the kernel say ENAMETOOLONG on a truncated copy
        for (int i = 0; i < n && i <= PATH_MAX; i++) seg.set(JAVA_BYTE, i, (byte) raw.charAt(i));
        seg.set(JAVA_BYTE, Math.min(n, PATH_MAX + 1), (byte) 0);
        return seg;
    }

    static RuntimeException rethrow(Throwable t) {
        return Native.rethrow(t);
    }

    /** Throws a {@link SyscallException} when {@code r} is negative (a -errno). */
    public static long check(long r, String call, String what) {
        if (r < 0) throw new SyscallException(call, what, (int) -r);
        return r;
    }

    public int openat(int dirfd, String name, int flags, int mode) {
        try {
            int r = (int) H.OPENAT.invokeExact(st, dirfd, name(p1, name), flags | O_CLOEXEC, mode);
            return r < 0 ? -errno() : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int openat2(int dirfd, String path, int flags, int mode, long resolve) {
        try {
            how.set(JAVA_LONG, 0, (long) (flags | O_CLOEXEC));
            how.set(JAVA_LONG, 8, (long) mode);
            how.set(JAVA_LONG, 16, resolve);
            long r = (long) H.SYSCALL4.invokeExact(st, SYS_OPENAT2, (long) dirfd, name(p1, path), how, 24L);
            return r < 0 ? -errno() : (int) r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void close(int fd) {
        try {
            int r = (int) H.CLOSE.invokeExact(st, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
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
        try {
            MemorySegment seg = heap(b);
            while (true) {
                long r = (long) H.READ.invokeExact(st, fd, seg.asSlice(off, len), (long) len);
                if (r >= 0) return r;
                int e = errno();
                if (e != EINTR) return -e;
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) of all {@code len} bytes from a Java array; returns 0 or -errno. */
    public int writeFully(int fd, byte[] b, int off, int len) {
        try {
            MemorySegment seg = heap(b);
            while (len > 0) {
                long r = (long) H.WRITE.invokeExact(st, fd, seg.asSlice(off, len), (long) len);
                if (r < 0) {
                    int e = errno();
                    if (e == EINTR) continue;
                    return -e;
                }
                off += (int) r;
                len -= (int) r;
            }
            return 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) of all {@code len} bytes at {@code off} of a native segment; returns 0 or -errno. */
    public int writeFully(int fd, MemorySegment src, long off, int len) {
        try {
            while (len > 0) {
                long r = (long) H.WRITE.invokeExact(st, fd, src.asSlice(off, len), (long) len);
                if (r < 0) {
                    int e = errno();
                    if (e == EINTR) continue;
                    return -e;
                }
                off += r;
                len -= (int) r;
            }
            return 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long lseek(int fd, long off, int whence) {
        try {
            long r = (long) H.LSEEK.invokeExact(st, fd, off, whence);
            return r < 0 ? -errno() : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int ftruncate(int fd, long size) {
        try {
            int r = (int) H.FTRUNCATE.invokeExact(st, fd, size);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int mkdirat(int dirfd, String name, int mode) {
        try {
            int r = (int) H.MKDIRAT.invokeExact(st, dirfd, name(p1, name), mode);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int mknodat(int dirfd, String name, int mode, long dev) {
        try {
            int r = (int) H.MKNODAT.invokeExact(st, dirfd, name(p1, name), mode, dev);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int symlinkat(String target, int dirfd, String name) {
        try {
            int r = (int) H.SYMLINKAT.invokeExact(st, name(p2, target), dirfd, name(p1, name));
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** linkat(2) with flags 0: a symlink target is linked itself, never followed. */
    public int linkat(int olddir, String oldName, int newdir, String newName) {
        try {
            int r = (int) H.LINKAT.invokeExact(st, olddir, name(p2, oldName), newdir, name(p1, newName), 0);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int unlinkat(int dirfd, String name, int flags) {
        try {
            int r = (int) H.UNLINKAT.invokeExact(st, dirfd, name(p1, name), flags);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** readlinkat(2) as a raw string, or null with {@link #lastErrno()} set. */
    public String readlinkat(int dirfd, String name) {
        try {
            long r = (long) H.READLINKAT.invokeExact(st, dirfd, name(p1, name), big, big.byteSize());
            if (r < 0) {
                lastErrno = errno();
                return null;
            }
            return new String(big.asSlice(0, r).toArray(JAVA_BYTE), StandardCharsets.ISO_8859_1);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private int lastErrno;

    public int lastErrno() {
        return lastErrno;
    }

    public int fchown(int fd, long uid, long gid) {
        try {
            int r = (int) H.FCHOWN.invokeExact(st, fd, (int) uid, (int) gid);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int lchownat(int dirfd, String name, long uid, long gid) {
        try {
            int r = (int) H.FCHOWNAT.invokeExact(st, dirfd, name(p1, name), (int) uid, (int) gid, AT_SYMLINK_NOFOLLOW);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int fchmod(int fd, int mode) {
        try {
            int r = (int) H.FCHMOD.invokeExact(st, fd, mode);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fchmodat(2) without flags: only for names just made that are not symlinks. */
    public int fchmodat(int dirfd, String name, int mode) {
        try {
            int r = (int) H.FCHMODAT.invokeExact(st, dirfd, name(p1, name), mode, 0);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets atime and mtime in ns; {@code name} null means the fd itself (futimens). */
    public int utimens(int dirfd, String name, long atimeNanos, long mtimeNanos, int flags) {
        try {
            ts.set(JAVA_LONG, 0, Math.floorDiv(atimeNanos, 1_000_000_000L));
            ts.set(JAVA_LONG, 8, atimeNanos == Long.MIN_VALUE ? UTIME_OMIT : Math.floorMod(atimeNanos, 1_000_000_000L));
            ts.set(JAVA_LONG, 16, Math.floorDiv(mtimeNanos, 1_000_000_000L));
            ts.set(JAVA_LONG, 24, Math.floorMod(mtimeNanos, 1_000_000_000L));
            int r = name == null ? (int) H.FUTIMENS.invokeExact(st, dirfd, ts)
                    : (int) H.UTIMENSAT.invokeExact(st, dirfd, name(p1, name), ts, flags);
            return r < 0 ? -errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** statx(2) into {@link #stat}; an empty name with AT_EMPTY_PATH stats the fd. Returns 0 or -errno. */
    public int statx(int dirfd, String name, int flags) {
        try {
            int r = (int) H.STATX.invokeExact(st, dirfd, name(p1, name), flags, STATX_BASIC, sx);
            if (r < 0) return -errno();
            StatBuf s = stat;
            s.mode = Short.toUnsignedInt(sx.get(JAVA_SHORT, 28));
            s.uid = sx.get(JAVA_INT, 20);
            s.gid = sx.get(JAVA_INT, 24);
            s.nlink = Integer.toUnsignedLong(sx.get(JAVA_INT, 16));
            s.ino = sx.get(JAVA_LONG, 32);
            s.size = sx.get(JAVA_LONG, 40);
            s.blocks = sx.get(JAVA_LONG, 48);
            s.mtimeNanos = sx.get(JAVA_LONG, 112) * 1_000_000_000L + Integer.toUnsignedLong(sx.get(JAVA_INT, 120));
            s.rdevMajor = sx.get(JAVA_INT, 128);
            s.rdevMinor = sx.get(JAVA_INT, 132);
            s.devMajor = sx.get(JAVA_INT, 136);
            s.devMinor = sx.get(JAVA_INT, 140);
            return 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
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

    public static final int DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

    /** Reads all entries of the directory open as {@code fd}. Returns 0 or -errno. */
    public int readdir(int fd, DirSink sink) {
        try {
            byte[] heap = new byte[(int) big.byteSize()];
            while (true) {
                long n = (long) H.GETDENTS64.invokeExact(st, fd, big, big.byteSize());
                if (n < 0) return -errno();
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
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
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
            throw rethrow(t);
        }
    }

    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
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
