package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Whether a path is the root of a mount, in one statx(2) and without an exception when it does not exist: the
 * check a driver runs on every get and put. statx reports {@code STATX_ATTR_MOUNT_ROOT} since Linux 5.8; on older
 * kernels the answer falls back to comparing the device with the parent directory's.
 *
 * <p>{@code struct statx}: stx_mask u32 at 0, stx_attributes u64 at 8, stx_attributes_mask u64 at 56,
 * stx_dev_major u32 at 136, stx_dev_minor u32 at 140, stx_mnt_id u64 at 144.
 */
public final class MountRoots {
    private static final long STATX_ATTR_MOUNT_ROOT = 0x2000;
    private static final int STATX_BASIC_STATS = 0x7ff, STATX_MNT_ID_UNIQUE = 0x4000;

    private static final class H {
        static final MethodHandle STATX = Native.errnoCall("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    }

    private MountRoots() {
    }

    /**
     * The never-reused 64-bit id of the mount {@code path} is on (statx {@code STATX_MNT_ID_UNIQUE}, Linux 6.8+), or
     * -1 where the kernel does not report one. Unlike a device number or the old mount id, it is not handed to a
     * later mount, so it can key facts learned about one filesystem instance.
     */
    public static long uniqueMountId(Path path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment buf = a.allocate(256, 8);
            int r = (int) H.STATX.invokeExact(st, PosixFiles.AT_FDCWD, a.allocateFrom(path.toString()), 0,
                    STATX_MNT_ID_UNIQUE, buf);
            if (r < 0) throw new SyscallException("statx", path.toString(), Native.errno(st));
            return (buf.get(JAVA_INT, 0) & STATX_MNT_ID_UNIQUE) != 0 ? buf.get(JAVA_LONG, 144) : -1;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** True if something is mounted at {@code path}; false if not, or if the path does not exist. */
    public static boolean isMountRoot(Path path) {
        CallScratch s = CallScratch.take();
        MemorySegment buf = s.buffer(256);
        int r;
        try {
            r = (int) H.STATX.invokeExact(s.errno, PosixFiles.AT_FDCWD, s.cString(path.toString()),
                    PosixFiles.AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buf);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (r < 0) {
            int e = Native.errno(s.errno);
            if (e == Errno.ENOENT || e == Errno.ENOTDIR) return false;
            throw new SyscallException("statx", path.toString(), e);
        }
        if ((buf.get(JAVA_LONG, 56) & STATX_ATTR_MOUNT_ROOT) != 0) {
            return (buf.get(JAVA_LONG, 8) & STATX_ATTR_MOUNT_ROOT) != 0;
        }
        int major = buf.get(JAVA_INT, 136), minor = buf.get(JAVA_INT, 140);
        Stat parent = PosixFiles.lstat(path.toAbsolutePath().getParent());
        return major != parent.devMajor() || minor != parent.devMinor();
    }
}
