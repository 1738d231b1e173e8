package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The new mount API: fsopen, fsconfig, fsmount, move_mount. It takes one option per call, so an overlay can be
 * given 500 lowers with {@code lowerdir+} where mount(2)'s one-page option string stops near 100. When a call
 * fails, the kernel's own reason is read back from the context and put into the exception.
 */
public final class FsContext implements AutoCloseable {
    public static final int FSOPEN_CLOEXEC = 1;
    public static final int FSCONFIG_SET_FLAG = 0, FSCONFIG_SET_STRING = 1, FSCONFIG_CMD_CREATE = 6;
    public static final int FSMOUNT_CLOEXEC = 1;
    public static final int MOUNT_ATTR_RDONLY = 1, MOUNT_ATTR_NOSUID = 2, MOUNT_ATTR_NODEV = 4, MOUNT_ATTR_NOEXEC = 8;
    public static final int MOVE_MOUNT_F_EMPTY_PATH = 4;

    private static final class H {
        static final MethodHandle FSOPEN = Native.errnoCall("fsopen", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle FSCONFIG = Native.errnoCall("fsconfig",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle FSMOUNT = Native.errnoCall("fsmount", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    private final Fd fd;
    private final String fsType;

    private FsContext(Fd fd, String fsType) {
        this.fd = fd;
        this.fsType = fsType;
    }

    /** Whether this kernel and C library have the new mount API. */
    public static boolean available() {
        try {
            try (FsContext ignored = open("tmpfs")) {
                return true;
            }
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    public static FsContext open(String fsType) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) H.FSOPEN.invokeExact(st, a.allocateFrom(fsType), FSOPEN_CLOEXEC);
            if (r < 0) throw new SyscallException("fsopen", fsType, Native.errno(st));
            return new FsContext(new Fd(r, "fsopen " + fsType), fsType);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** fsconfig(FSCONFIG_SET_STRING). Values are capped by the kernel at 256 bytes. */
    public FsContext set(String key, String value) {
        config(FSCONFIG_SET_STRING, key, value);
        return this;
    }

    /**
     * fsconfig(FSCONFIG_SET_STRING) once per value, in order, e.g. {@code lowerdir+} for each of 500 lowers. One
     * native buffer serves every call, so a deep stack costs one allocation rather than one per layer.
     */
    public FsContext setEach(String key, java.util.List<String> values) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment k = a.allocateFrom(key);
            int max = 1;
            for (String v : values) max = Math.max(max, v.length() * 3 + 1);
            MemorySegment buf = a.allocate(max);
            for (String value : values) {
                byte[] b = value.getBytes(StandardCharsets.UTF_8);
                MemorySegment.copy(b, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, b.length);
                buf.set(java.lang.foreign.ValueLayout.JAVA_BYTE, b.length, (byte) 0);
                int r = (int) H.FSCONFIG.invokeExact(st, fd.fd(), FSCONFIG_SET_STRING, k, buf, 0);
                if (r < 0) {
                    int e = Native.errno(st);
                    throw new SyscallException("fsconfig", fsType + " " + key + "=" + value, e, kernelLog());
                }
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return this;
    }

    /** fsconfig(FSCONFIG_SET_FLAG). */
    public FsContext flag(String key) {
        config(FSCONFIG_SET_FLAG, key, null);
        return this;
    }

    private void config(int cmd, String key, String value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment k = Native.cString(a, key);
            MemorySegment v = Native.cString(a, value);
            int r = (int) H.FSCONFIG.invokeExact(st, fd.fd(), cmd, k, v, 0);
            if (r < 0) {
                int e = Native.errno(st);
                throw new SyscallException("fsconfig", fsType + " " + key + (value == null ? "" : "=" + value), e, kernelLog());
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** FSCONFIG_CMD_CREATE, fsmount and move_mount onto {@code target}. */
    public void mountAt(Path target, int attrFlags) {
        try (MountTree m = mountDetached(target.toString(), attrFlags)) {
            m.attach(target);
        }
    }

    /**
     * FSCONFIG_CMD_CREATE and fsmount: the new filesystem as a detached mount, in no mount table until attached.
     * {@code forWhat} names it in errors (the target it is meant for).
     */
    public MountTree mountDetached(String forWhat, int attrFlags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) H.FSCONFIG.invokeExact(st, fd.fd(), FSCONFIG_CMD_CREATE, MemorySegment.NULL, MemorySegment.NULL, 0);
            if (r < 0) throw new SyscallException("fsconfig create", fsType + " on " + forWhat, Native.errno(st), kernelLog());
            int m = (int) H.FSMOUNT.invokeExact(st, fd.fd(), FSMOUNT_CLOEXEC, attrFlags);
            if (m < 0) throw new SyscallException("fsmount", fsType + " on " + forWhat, Native.errno(st), kernelLog());
            return new MountTree(new Fd(m, "fsmount " + fsType), fsType + " for " + forWhat);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The messages the kernel logged on this context ("e overlay: too many lower directories, limit is 500"). */
    public String kernelLog() {
        StringBuilder b = new StringBuilder();
        try {
            byte[] msg;
            while ((msg = readLogOnce()) != null) {
                if (!b.isEmpty()) b.append("; ");
                String s = new String(msg, StandardCharsets.UTF_8).strip();
                // Each message starts with its level: e (error), w (warning), i (info).
                if (s.length() > 2 && s.charAt(1) == ' ') s = s.substring(2);
                b.append(s);
            }
        } catch (RuntimeException e) {
            // ENODATA ends the log
        }
        return b.isEmpty() ? null : b.toString();
    }

    private byte[] readLogOnce() {
        try {
            return fd.read(1024);
        } catch (SyscallException e) {
            if (e.is(Errno.ENODATA)) return null;
            throw e;
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
