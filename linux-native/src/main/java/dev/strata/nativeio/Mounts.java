package dev.strata.nativeio;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** mount(2) and umount2(2). */
public final class Mounts {
    public static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32,
            MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19,
            MS_SHARED = 1 << 20;
    public static final int MNT_FORCE = 1, MNT_DETACH = 2, MNT_EXPIRE = 4, UMOUNT_NOFOLLOW = 8;

    private static final class H {
        static final MethodHandle MOUNT = Native.errnoCall("mount",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        static final MethodHandle UMOUNT2 = Native.errnoCall("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    private Mounts() {
    }

    /** mount(2). {@code data} may be null. */
    public static void mount(String source, Path target, String fsType, long flags, String data) {
        mount(source, target.toString(), fsType, flags, data);
    }

    /** mount(2) on a target given as a string (a get mounts at a path it built as one). {@code data} may be null. */
    public static void mount(String source, String target, String fsType, long flags, String data) {
        CallScratch s = CallScratch.take();
        int r;
        try {
            r = (int) H.MOUNT.invokeExact(s.errno, s.cString(source), s.cString(target), s.cString(fsType), flags, s.cString(data));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (r < 0) {
            int e = Native.errno(s.errno);
            String detail = data != null && data.length() > 4095
                    ? "mount data is " + data.length() + " bytes, over one page; the kernel cut it" : null;
            throw new SyscallException("mount", target, e, detail);
        }
    }

    /** umount2(2). */
    public static void unmount(Path target, int flags) {
        int e = umount2(target, flags);
        if (e != 0) throw new SyscallException("umount2", target.toString(), e);
    }

    /**
     * Unmounts {@code target} if something is mounted there; EINVAL (not a mount point) and ENOENT are not errors,
     * and cost no exception (put and remove call this on every layer).
     */
    public static boolean unmountIfMounted(Path target, int flags) {
        int e = umount2(target, flags);
        if (e == 0) return true;
        if (e == Errno.EINVAL || e == Errno.ENOENT) return false;
        throw new SyscallException("umount2", target.toString(), e);
    }

    /** What {@link #unmountIfPresent} found. */
    public enum Unmounted { UNMOUNTED, NOT_A_MOUNT, ABSENT }

    /**
     * {@link #unmountIfMounted}, telling "nothing at that path" (ENOENT) from "not a mount point" (EINVAL), so a
     * caller that removes the mount point afterwards can skip that call too.
     */
    public static Unmounted unmountIfPresent(Path target, int flags) {
        return unmountIfPresent(target.toString(), flags);
    }

    /** {@link #unmountIfPresent(Path, int)} of a target given as a string. */
    public static Unmounted unmountIfPresent(String target, int flags) {
        int e = umount2(target, flags);
        if (e == 0) return Unmounted.UNMOUNTED;
        if (e == Errno.EINVAL) return Unmounted.NOT_A_MOUNT;
        if (e == Errno.ENOENT) return Unmounted.ABSENT;
        throw new SyscallException("umount2", target, e);
    }

    /** 0, or the errno. */
    private static int umount2(Path target, int flags) {
        return umount2(target.toString(), flags);
    }

    private static int umount2(String target, int flags) {
        CallScratch s = CallScratch.take();
        try {
            int r = (int) H.UMOUNT2.invokeExact(s.errno, s.cString(target), flags);
            return r < 0 ? Native.errno(s.errno) : 0;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Unmounts every mount at or below {@code dir}, deepest first, detaching busy ones. Returns how many. */
    public static int unmountAllUnder(Path dir) {
        int n = 0;
        for (MountInfo m : MountInfo.under(dir)) {
            if (unmountIfMounted(Path.of(m.mountPoint()), MNT_DETACH)) n++;
        }
        return n;
    }
}
