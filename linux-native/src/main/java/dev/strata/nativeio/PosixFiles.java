package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * File calls relative to a directory descriptor (the *at family), openat2 with its RESOLVE_* confinement,
 * statx, and the copy primitives (FICLONE, copy_file_range, SEEK_DATA/SEEK_HOLE). A null {@link Fd} directory
 * means the current directory (AT_FDCWD).
 */
public final class PosixFiles {
    private static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));

    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_NOCTTY = 0400,
            O_TRUNC = 01000, O_APPEND = 02000, O_NONBLOCK = 04000, O_CLOEXEC = 02000000, O_PATH = 010000000;
    public static final int O_DIRECTORY = AARCH64 ? 040000 : 0200000;
    public static final int O_NOFOLLOW = AARCH64 ? 0100000 : 0400000;

    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200,
            AT_SYMLINK_FOLLOW = 0x400, AT_EMPTY_PATH = 0x1000;
    public static final long RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
            RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
    public static final int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;
    public static final int SEEK_SET = 0, SEEK_DATA = 3, SEEK_HOLE = 4;
    public static final long FICLONE = 0x40049409L;
    private static final long SYS_OPENAT2 = 437;
    private static final int STATX_BASIC_STATS = 0x7ff;
    public static final long UTIME_OMIT = (1L << 30) - 2;

    private static final class Open {
        static final MethodHandle OPENAT = Native.errnoCallVariadic("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3);
        static final MethodHandle SYSCALL4 = Native.errnoCallVariadic("syscall",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG), 1);
    }

    private static final class Make {
        static final MethodHandle MKNODAT = Native.errnoCall("mknodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
        static final MethodHandle MKDIRAT = Native.errnoCall("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle SYMLINKAT = Native.errnoCall("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        static final MethodHandle LINKAT = Native.errnoCall("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle UNLINKAT = Native.errnoCall("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle RENAMEAT2 = Native.errnoCall("renameat2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle READLINKAT = Native.errnoCall("readlinkat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    }

    private static final class Meta {
        static final MethodHandle FCHOWNAT = Native.errnoCall("fchownat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle FCHMODAT = Native.errnoCall("fchmodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle FCHMOD = Native.errnoCall("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle UTIMENSAT = Native.errnoCall("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle STATX = Native.errnoCall("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    }

    private static final class Copy {
        static final MethodHandle COPY_FILE_RANGE = Native.errnoCall("copy_file_range",
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle LSEEK = Native.errnoCall("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
        static final MethodHandle FTRUNCATE = Native.errnoCall("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        static final MethodHandle WRITE = Native.errnoCall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle FSYNC = Native.errnoCall("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

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
            int r = (int) Open.OPENAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), flags | O_CLOEXEC, mode);
            if (r < 0) throw new SyscallException("openat", where(dir, path), Native.errno(st));
            return new Fd(r, where(dir, path));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static Fd open(Path path, int flags, int mode) {
        return openat(null, path.toString(), flags, mode);
    }

    /**
     * openat2(2): opens {@code path} relative to {@code dir} with RESOLVE_* confinement, e.g.
     * {@link #RESOLVE_IN_ROOT} so that {@code ..} and absolute symlinks cannot leave {@code dir}.
     */
    public static Fd openat2(Fd dir, String path, int flags, int mode, long resolve) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment how = a.allocate(24, 8);
            how.set(JAVA_LONG, 0, (long) (flags | O_CLOEXEC));
            how.set(JAVA_LONG, 8, (long) mode);
            how.set(JAVA_LONG, 16, resolve);
            long r = (long) Open.SYSCALL4.invokeExact(st, SYS_OPENAT2, (long) dirfd(dir), a.allocateFrom(path), how, 24L);
            if (r < 0) throw new SyscallException("openat2", where(dir, path), Native.errno(st));
            return new Fd((int) r, where(dir, path));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** mknodat(2): {@code mode} includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
    public static void mknodat(Fd dir, String path, int mode, long dev) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Make.MKNODAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), mode, dev);
            if (r < 0) throw new SyscallException("mknodat", where(dir, path), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void mknod(Path path, int mode, long dev) {
        mknodat(null, path.toString(), mode, dev);
    }

    public static void mkdirat(Fd dir, String path, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Make.MKDIRAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), mode);
            if (r < 0) throw new SyscallException("mkdirat", where(dir, path), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** symlinkat(2): makes {@code path} (relative to dir) a symlink holding {@code target}. */
    public static void symlinkat(String target, Fd dir, String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Make.SYMLINKAT.invokeExact(st, a.allocateFrom(target), dirfd(dir), a.allocateFrom(path));
            if (r < 0) throw new SyscallException("symlinkat", where(dir, path), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** linkat(2): a hard link {@code newPath} to {@code oldPath}. */
    public static void linkat(Fd oldDir, String oldPath, Fd newDir, String newPath, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Make.LINKAT.invokeExact(st, dirfd(oldDir), a.allocateFrom(oldPath), dirfd(newDir), a.allocateFrom(newPath), flags);
            if (r < 0) throw new SyscallException("linkat", where(newDir, newPath) + " -> " + where(oldDir, oldPath), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
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
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Make.UNLINKAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), flags);
            return r < 0 ? Native.errno(st) : 0;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void renameat2(Fd oldDir, String oldPath, Fd newDir, String newPath, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Make.RENAMEAT2.invokeExact(st, dirfd(oldDir), a.allocateFrom(oldPath), dirfd(newDir), a.allocateFrom(newPath), flags);
            if (r < 0) throw new SyscallException("renameat2", where(oldDir, oldPath) + " -> " + where(newDir, newPath), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** readlinkat(2) as raw bytes decoded as UTF-8 (symlink targets may be any bytes; layers use UTF-8). */
    public static String readlinkat(Fd dir, String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment buf = a.allocate(4097);
            long r = (long) Make.READLINKAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), buf, 4097L);
            if (r < 0) throw new SyscallException("readlinkat", where(dir, path), Native.errno(st));
            return new String(buf.asSlice(0, r).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fchownat(2); with AT_SYMLINK_NOFOLLOW it changes a symlink itself. */
    public static void fchownat(Fd dir, String path, int uid, int gid, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Meta.FCHOWNAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), uid, gid, flags);
            if (r < 0) throw new SyscallException("fchownat", where(dir, path), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void fchmodat(Fd dir, String path, int mode, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Meta.FCHMODAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), mode, flags);
            if (r < 0) throw new SyscallException("fchmodat", where(dir, path), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void fchmod(Fd fd, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Meta.FCHMOD.invokeExact(st, fd.fd(), mode);
            if (r < 0) throw new SyscallException("fchmod", fd.what(), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** utimensat(2) with nanosecond times; AT_SYMLINK_NOFOLLOW sets a symlink's own times. */
    public static void utimensat(Fd dir, String path, long atimeNanos, long mtimeNanos, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment ts = a.allocate(32, 8);
            ts.set(JAVA_LONG, 0, Math.floorDiv(atimeNanos, 1_000_000_000L));
            ts.set(JAVA_LONG, 8, Math.floorMod(atimeNanos, 1_000_000_000L));
            ts.set(JAVA_LONG, 16, Math.floorDiv(mtimeNanos, 1_000_000_000L));
            ts.set(JAVA_LONG, 24, Math.floorMod(mtimeNanos, 1_000_000_000L));
            int r = (int) Meta.UTIMENSAT.invokeExact(st, dirfd(dir), a.allocateFrom(path), ts, flags);
            if (r < 0) throw new SyscallException("utimensat", where(dir, path), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** statx(2) of {@code path} relative to {@code dir}; an empty path with AT_EMPTY_PATH stats {@code dir} itself. */
    public static Stat statx(Fd dir, String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment b = a.allocate(256, 8);
            int r = (int) Meta.STATX.invokeExact(st, dirfd(dir), a.allocateFrom(path), flags, STATX_BASIC_STATS, b);
            if (r < 0) throw new SyscallException("statx", where(dir, path), Native.errno(st));
            return new Stat(Short.toUnsignedInt(b.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 28)),
                    b.get(JAVA_INT, 20), b.get(JAVA_INT, 24), Integer.toUnsignedLong(b.get(JAVA_INT, 16)),
                    b.get(JAVA_LONG, 32), b.get(JAVA_LONG, 40), b.get(JAVA_LONG, 48),
                    b.get(JAVA_INT, 136), b.get(JAVA_INT, 140), b.get(JAVA_INT, 128), b.get(JAVA_INT, 132),
                    nanos(b, 64), nanos(b, 112), nanos(b, 96));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Whether anything, a dangling symlink included, is at {@code path} (a final symlink is not followed). Unlike
     * {@code Files.exists(path, NOFOLLOW_LINKS)}, which builds and drops an exception when there is nothing, this
     * answers a missing path with no exception; errors other than ENOENT and ENOTDIR are thrown.
     */
    public static boolean lexists(Path path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Meta.STATX.invokeExact(st, AT_FDCWD, a.allocateFrom(path.toString()), AT_SYMLINK_NOFOLLOW, 0, a.allocate(256, 8));
            if (r == 0) return true;
            int e = Native.errno(st);
            if (e == Errno.ENOENT || e == Errno.ENOTDIR) return false;
            throw new SyscallException("statx", path.toString(), e);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** lstat-like statx of a path (a final symlink is not followed). */
    public static Stat lstat(Path path) {
        return statx(null, path.toString(), AT_SYMLINK_NOFOLLOW);
    }

    private static long nanos(MemorySegment b, long off) {
        return b.get(JAVA_LONG, off) * 1_000_000_000L + Integer.toUnsignedLong(b.get(JAVA_INT, off + 8));
    }

    /** ioctl(FICLONE): makes {@code dst} share {@code src}'s blocks (btrfs, xfs with reflink). */
    public static void ficlone(Fd dst, Fd src) {
        Ioctl.call(dst, FICLONE, src.fd(), "FICLONE");
    }

    /** copy_file_range(2) from the current offsets; returns bytes copied (0 at end of input). */
    public static long copyFileRange(Fd in, Fd out, long len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            long r = (long) Copy.COPY_FILE_RANGE.invokeExact(st, in.fd(), MemorySegment.NULL, out.fd(), MemorySegment.NULL, len, 0);
            if (r < 0) throw new SyscallException("copy_file_range", in.what() + " -> " + out.what(), Native.errno(st));
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** copy_file_range(2) between explicit offsets (the descriptors' own offsets are left alone). */
    public static long copyFileRange(Fd in, long inOffset, Fd out, long outOffset, long len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment offs = a.allocate(16, 8);
            offs.set(JAVA_LONG, 0, inOffset);
            offs.set(JAVA_LONG, 8, outOffset);
            long r = (long) Copy.COPY_FILE_RANGE.invokeExact(st, in.fd(), offs, out.fd(), offs.asSlice(8), len, 0);
            if (r < 0) throw new SyscallException("copy_file_range", in.what() + " -> " + out.what(), Native.errno(st));
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** lseek(2); for SEEK_DATA/SEEK_HOLE past the last data it returns -1 (ENXIO) instead of throwing. */
    public static long lseek(Fd fd, long offset, int whence) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            long r = (long) Copy.LSEEK.invokeExact(st, fd.fd(), offset, whence);
            if (r < 0) {
                int e = Native.errno(st);
                if (e == Errno.ENXIO && (whence == SEEK_DATA || whence == SEEK_HOLE)) return -1;
                throw new SyscallException("lseek", fd.what(), e);
            }
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void ftruncate(Fd fd, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Copy.FTRUNCATE.invokeExact(st, fd.fd(), size);
            if (r < 0) throw new SyscallException("ftruncate", fd.what(), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** write(2) of a whole native buffer, retrying short writes. */
    public static void writeFully(Fd fd, MemorySegment buf, long len) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            long off = 0;
            while (off < len) {
                long r = (long) Copy.WRITE.invokeExact(st, fd.fd(), buf.asSlice(off), len - off);
                if (r < 0) {
                    int e = Native.errno(st);
                    if (e == Errno.EINTR) continue;
                    throw new SyscallException("write", fd.what(), e);
                }
                off += r;
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void fsync(Fd fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) Copy.FSYNC.invokeExact(st, fd.fd());
            if (r < 0) throw new SyscallException("fsync", fd.what(), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
