package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The file calls of this module, bound once: each returns its result or {@code -errno}, never throws for a failed
 * call. Two layers sit on it: {@link dev.strata.nativeio.fast.Sys}, which reuses one thread's scratch memory for the
 * archive hot paths, and the throwing calls ({@link PosixFiles}, {@link Xattrs}, {@link DirEntries}, {@link Fd}),
 * which turn a negative result into a {@link SyscallException}.
 *
 * <p>{@code errno} is the capture segment of the calling layer ({@link Native#captureState}); names and buffers are
 * segments too, so each layer chooses how a name is encoded (raw bytes or UTF-8) and where it lives. read and write
 * are critical downcalls that accept heap segments, so file data is never copied to native memory. Handles are
 * made lazily, one holder class a call (grouped by area): making one costs ~7 ms of start-up, and a short command
 * such as {@code strata exists} needs two or three of them, not a whole area.
 */
public final class Libc {
    private static final long SYS_OPENAT2 = 437;
    private static final int STATX_BASIC_STATS = 0x7ff;
    /** Set once the statx handle is made: from then on a path check costs no more through FFM than through the JDK. */
    static volatile boolean statxLinked;

    private Libc() {
    }

    static final class Open {
        static final class Openat {
            static final MethodHandle H = Native.errnoCallVariadic("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3);
        }
        static final class Syscall4 {
            static final MethodHandle H = Native.errnoCallVariadic("syscall",
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG), 1);
        }
        static final class Close {
            static final MethodHandle H = Native.errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        }
        static final class Flock {
            static final MethodHandle H = Native.errnoCall("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        }
    }

    static final class Data {
        private static final Linker.Option HEAP = Linker.Option.critical(true);
        static final class Read {
            static final MethodHandle H = Native.LINKER.downcallHandle(Native.LIBC.findOrThrow("read"),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.captureCallState("errno"), HEAP);
        }
        static final class Write {
            static final MethodHandle H = Native.LINKER.downcallHandle(Native.LIBC.findOrThrow("write"),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.captureCallState("errno"), HEAP);
        }
        static final class Lseek {
            static final MethodHandle H = Native.errnoCall("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
        }
        static final class Pread {
            static final MethodHandle H = Native.LINKER.downcallHandle(Native.LIBC.findOrThrow("pread"),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), Linker.Option.captureCallState("errno"), HEAP);
        }
        static final class Pwrite {
            static final MethodHandle H = Native.LINKER.downcallHandle(Native.LIBC.findOrThrow("pwrite"),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), Linker.Option.captureCallState("errno"), HEAP);
        }
        static final class Ftruncate {
            static final MethodHandle H = Native.errnoCall("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        }
        static final class Truncate {
            static final MethodHandle H = Native.errnoCall("truncate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        }
        static final class Fsync {
            static final MethodHandle H = Native.errnoCall("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        }
        static final class CopyFileRange {
            static final MethodHandle H = Native.errnoCall("copy_file_range",
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        }
    }

    static final class Make {
        static final class Mkdirat {
            static final MethodHandle H = Native.errnoCall("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        }
        static final class Mknodat {
            static final MethodHandle H = Native.errnoCall("mknodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
        }
        static final class Symlinkat {
            static final MethodHandle H = Native.errnoCall("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        }
        static final class Linkat {
            static final MethodHandle H = Native.errnoCall("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        }
        static final class Unlinkat {
            static final MethodHandle H = Native.errnoCall("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        }
        static final class Renameat2 {
            static final MethodHandle H = Native.errnoCall("renameat2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        }
        static final class Readlinkat {
            static final MethodHandle H = Native.errnoCall("readlinkat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        }
    }

    static final class Meta {
        static final class Fchown {
            static final MethodHandle H = Native.errnoCall("fchown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        }
        static final class Fchownat {
            static final MethodHandle H = Native.errnoCall("fchownat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
        }
        static final class Fchmod {
            static final MethodHandle H = Native.errnoCall("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        }
        static final class Fchmodat {
            static final MethodHandle H = Native.errnoCall("fchmodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        }
        static final class Futimens {
            static final MethodHandle H = Native.errnoCall("futimens", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        }
        static final class Utimensat {
            static final MethodHandle H = Native.errnoCall("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        }
        static final class Statx {
            static final MethodHandle H = Native.errnoCall("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));

            static {
                statxLinked = true;
            }
        }
        static final class Getdents64 {
            static final MethodHandle H = Native.errnoCall("getdents64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        }
    }

    static final class Xattr {
        static final class Fget {
            static final MethodHandle H = Native.errnoCall("fgetxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        }
        static final class Lget {
            static final MethodHandle H = Native.errnoCall("lgetxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        }
        static final class Fset {
            static final MethodHandle H = Native.errnoCall("fsetxattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        }
        static final class Lset {
            static final MethodHandle H = Native.errnoCall("lsetxattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        }
        static final class Flist {
            static final MethodHandle H = Native.errnoCall("flistxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        }
        static final class Llist {
            static final MethodHandle H = Native.errnoCall("llistxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
        }
        static final class Fremove {
            static final MethodHandle H = Native.errnoCall("fremovexattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        }
        static final class Lremove {
            static final MethodHandle H = Native.errnoCall("lremovexattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        }
    }

    static final class Mem {
        static final class Mmap {
            static final MethodHandle H = Native.errnoCall("mmap",
                    FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        }
        static final class Munmap {
            static final MethodHandle H = Native.errnoCall("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
        }
    }

    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;

    /**
     * mmap(2) of the first {@code len} bytes of {@code fd}, shared and read-write: every process that maps the file
     * sees the same memory, and what is written there is the file's. Unmapped when {@code arena} closes (or, for an
     * automatic arena, when the segment is no longer reachable).
     */
    public static MemorySegment mapShared(MemorySegment errno, int fd, long len, Arena arena, String what) {
        long addr;
        try {
            addr = (long) Mem.Mmap.H.invokeExact(errno, 0L, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (addr == -1) throw new SyscallException("mmap", what, Native.errno(errno));
        return MemorySegment.ofAddress(addr).reinterpret(len, arena, unused -> munmap(addr, len));
    }

    private static void munmap(long addr, long len) {
        try (Arena a = Arena.ofConfined()) {
            int r = (int) Mem.Munmap.H.invokeExact(Native.captureState(a), addr, len);
            if (r != 0) throw new IllegalStateException("munmap of a mapping of " + len + " bytes failed");
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static int ret(MemorySegment errno, int r) {
        return r < 0 ? -Native.errno(errno) : r;
    }

    private static long ret(MemorySegment errno, long r) {
        return r < 0 ? -Native.errno(errno) : r;
    }

    // ---- open and close ----

    /** openat(2); O_CLOEXEC is always added. */
    public static int openat(MemorySegment errno, int dirfd, MemorySegment path, int flags, int mode) {
        try {
            return ret(errno, (int) Open.Openat.H.invokeExact(errno, dirfd, path, flags | FileConstants.O_CLOEXEC, mode));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * openat2(2) with an open_how of 24 bytes in {@code how}, which this fills (O_CLOEXEC added). With
     * RESOLVE_BENEATH or RESOLVE_IN_ROOT the kernel answers EAGAIN when any mount or rename anywhere on the system
     * raced the lookup (its seqcount checks), which on a busy machine is not rare; such a lookup is tried again.
     */
    public static int openat2(MemorySegment errno, int dirfd, MemorySegment path, MemorySegment how, int flags, int mode, long resolve) {
        how.set(JAVA_LONG, 0, (long) (flags | FileConstants.O_CLOEXEC));
        how.set(JAVA_LONG, 8, (long) mode);
        how.set(JAVA_LONG, 16, resolve);
        try {
            int r;
            int tries = 0;
            do {
                r = (int) ret(errno, (long) Open.Syscall4.H.invokeExact(errno, SYS_OPENAT2, (long) dirfd, path, how, 24L));
            } while (r == -Errno.EAGAIN && ++tries < 64);
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int close(MemorySegment errno, int fd) {
        try {
            return ret(errno, (int) Open.Close.H.invokeExact(errno, fd));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** flock(2): {@code LOCK_EX}, {@code LOCK_UN}, with {@code LOCK_NB} not to wait (then -EWOULDBLOCK when held). */
    public static int flock(MemorySegment errno, int fd, int operation) {
        try {
            return ret(errno, (int) Open.Flock.H.invokeExact(errno, fd, operation));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ---- data ----

    /** read(2) into {@code buf} (heap or native); bytes read, 0 at the end, or -errno. */
    public static long read(MemorySegment errno, int fd, MemorySegment buf, long len) {
        try {
            return ret(errno, (long) Data.Read.H.invokeExact(errno, fd, buf, len));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** pread(2) into {@code buf} (heap or native) at {@code offset}; bytes read or -errno. */
    public static long pread(MemorySegment errno, int fd, MemorySegment buf, long len, long offset) {
        try {
            return ret(errno, (long) Data.Pread.H.invokeExact(errno, fd, buf, len, offset));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** pwrite(2) from {@code buf} (heap or native) at {@code offset}; bytes written or -errno. */
    public static long pwrite(MemorySegment errno, int fd, MemorySegment buf, long len, long offset) {
        try {
            return ret(errno, (long) Data.Pwrite.H.invokeExact(errno, fd, buf, len, offset));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** write(2) from {@code buf} (heap or native); bytes written or -errno. */
    public static long write(MemorySegment errno, int fd, MemorySegment buf, long len) {
        try {
            return ret(errno, (long) Data.Write.H.invokeExact(errno, fd, buf, len));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long lseek(MemorySegment errno, int fd, long offset, int whence) {
        try {
            return ret(errno, (long) Data.Lseek.H.invokeExact(errno, fd, offset, whence));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int ftruncate(MemorySegment errno, int fd, long size) {
        try {
            return ret(errno, (int) Data.Ftruncate.H.invokeExact(errno, fd, size));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** truncate(2) of a path (followed if a symlink): one call where open, ftruncate and close are three. */
    public static int truncate(MemorySegment errno, MemorySegment path, long size) {
        try {
            return ret(errno, (int) Data.Truncate.H.invokeExact(errno, path, size));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int fsync(MemorySegment errno, int fd) {
        try {
            return ret(errno, (int) Data.Fsync.H.invokeExact(errno, fd));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** copy_file_range(2); offsets NULL for the descriptors' own. */
    public static long copyFileRange(MemorySegment errno, int in, MemorySegment inOff, int out, MemorySegment outOff, long len) {
        try {
            return ret(errno, (long) Data.CopyFileRange.H.invokeExact(errno, in, inOff, out, outOff, len, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ---- making and removing names ----

    public static int mkdirat(MemorySegment errno, int dirfd, MemorySegment path, int mode) {
        try {
            return ret(errno, (int) Make.Mkdirat.H.invokeExact(errno, dirfd, path, mode));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int mknodat(MemorySegment errno, int dirfd, MemorySegment path, int mode, long dev) {
        try {
            return ret(errno, (int) Make.Mknodat.H.invokeExact(errno, dirfd, path, mode, dev));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int symlinkat(MemorySegment errno, MemorySegment target, int dirfd, MemorySegment path) {
        try {
            return ret(errno, (int) Make.Symlinkat.H.invokeExact(errno, target, dirfd, path));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int linkat(MemorySegment errno, int olddir, MemorySegment oldPath, int newdir, MemorySegment newPath, int flags) {
        try {
            return ret(errno, (int) Make.Linkat.H.invokeExact(errno, olddir, oldPath, newdir, newPath, flags));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int unlinkat(MemorySegment errno, int dirfd, MemorySegment path, int flags) {
        try {
            return ret(errno, (int) Make.Unlinkat.H.invokeExact(errno, dirfd, path, flags));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int renameat2(MemorySegment errno, int olddir, MemorySegment oldPath, int newdir, MemorySegment newPath, int flags) {
        try {
            return ret(errno, (int) Make.Renameat2.H.invokeExact(errno, olddir, oldPath, newdir, newPath, flags));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** readlinkat(2) into {@code buf}; the target's length (not NUL-terminated) or -errno. */
    public static long readlinkat(MemorySegment errno, int dirfd, MemorySegment path, MemorySegment buf) {
        try {
            return ret(errno, (long) Make.Readlinkat.H.invokeExact(errno, dirfd, path, buf, buf.byteSize()));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ---- metadata ----

    public static int fchown(MemorySegment errno, int fd, int uid, int gid) {
        try {
            return ret(errno, (int) Meta.Fchown.H.invokeExact(errno, fd, uid, gid));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int fchownat(MemorySegment errno, int dirfd, MemorySegment path, int uid, int gid, int flags) {
        try {
            return ret(errno, (int) Meta.Fchownat.H.invokeExact(errno, dirfd, path, uid, gid, flags));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int fchmod(MemorySegment errno, int fd, int mode) {
        try {
            return ret(errno, (int) Meta.Fchmod.H.invokeExact(errno, fd, mode));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int fchmodat(MemorySegment errno, int dirfd, MemorySegment path, int mode, int flags) {
        try {
            return ret(errno, (int) Meta.Fchmodat.H.invokeExact(errno, dirfd, path, mode, flags));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Fills {@code ts} (32 bytes: two timespecs) with atime and mtime in ns ({@code Long.MIN_VALUE} atime: leave it)
     * and sets them: on {@code dirfd} itself (futimens) when {@code path} is null, else utimensat.
     */
    public static int utimens(MemorySegment errno, int dirfd, MemorySegment path, MemorySegment ts, long atimeNanos, long mtimeNanos, int flags) {
        ts.set(JAVA_LONG, 0, Math.floorDiv(atimeNanos, 1_000_000_000L));
        ts.set(JAVA_LONG, 8, atimeNanos == Long.MIN_VALUE ? FileConstants.UTIME_OMIT : Math.floorMod(atimeNanos, 1_000_000_000L));
        ts.set(JAVA_LONG, 16, Math.floorDiv(mtimeNanos, 1_000_000_000L));
        ts.set(JAVA_LONG, 24, Math.floorMod(mtimeNanos, 1_000_000_000L));
        try {
            return ret(errno, path == null ? (int) Meta.Futimens.H.invokeExact(errno, dirfd, ts)
                    : (int) Meta.Utimensat.H.invokeExact(errno, dirfd, path, ts, flags));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** statx(2) of the basic fields into {@code buf} (256 bytes; {@link Statx} reads it). */
    public static int statx(MemorySegment errno, int dirfd, MemorySegment path, int flags, MemorySegment buf) {
        return statx(errno, dirfd, path, flags, STATX_BASIC_STATS, buf);
    }

    public static int statx(MemorySegment errno, int dirfd, MemorySegment path, int flags, int mask, MemorySegment buf) {
        try {
            return ret(errno, (int) Meta.Statx.H.invokeExact(errno, dirfd, path, flags, mask, buf));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** getdents64(2): bytes of {@code struct linux_dirent64} records read into {@code buf}, 0 at the end, or -errno. */
    public static long getdents64(MemorySegment errno, int fd, MemorySegment buf) {
        try {
            return ret(errno, (long) Meta.Getdents64.H.invokeExact(errno, fd, buf, buf.byteSize()));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    // ---- extended attributes: on an fd when path is null, else on a path without following it ----

    public static long getxattr(MemorySegment errno, int fd, MemorySegment path, MemorySegment name, MemorySegment value) {
        try {
            return ret(errno, path == null ? (long) Xattr.Fget.H.invokeExact(errno, fd, name, value, value.byteSize())
                    : (long) Xattr.Lget.H.invokeExact(errno, path, name, value, value.byteSize()));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int setxattr(MemorySegment errno, int fd, MemorySegment path, MemorySegment name, MemorySegment value, long size, int flags) {
        try {
            return ret(errno, path == null ? (int) Xattr.Fset.H.invokeExact(errno, fd, name, value, size, flags)
                    : (int) Xattr.Lset.H.invokeExact(errno, path, name, value, size, flags));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static long listxattr(MemorySegment errno, int fd, MemorySegment path, MemorySegment names) {
        try {
            return ret(errno, path == null ? (long) Xattr.Flist.H.invokeExact(errno, fd, names, names.byteSize())
                    : (long) Xattr.Llist.H.invokeExact(errno, path, names, names.byteSize()));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int removexattr(MemorySegment errno, int fd, MemorySegment path, MemorySegment name) {
        try {
            return ret(errno, path == null ? (int) Xattr.Fremove.H.invokeExact(errno, fd, name) : (int) Xattr.Lremove.H.invokeExact(errno, path, name));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
