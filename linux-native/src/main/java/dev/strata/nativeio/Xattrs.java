package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Extended attributes as raw bytes ({@code security.capability} is binary), on paths without following a final
 * symlink (l*xattr) or on open descriptors (f*xattr).
 */
public final class Xattrs {
    public static final int XATTR_CREATE = 1, XATTR_REPLACE = 2;

    private static final class H {
        static final MethodHandle LGET = Native.errnoCall("lgetxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle LSET = Native.errnoCall("lsetxattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle LLIST = Native.errnoCall("llistxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle LREMOVE = Native.errnoCall("lremovexattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle FGET = Native.errnoCall("fgetxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle FSET = Native.errnoCall("fsetxattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle FLIST = Native.errnoCall("flistxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle FREMOVE = Native.errnoCall("fremovexattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    private Xattrs() {
    }

    /** The value, or null when the attribute is absent (ENODATA). */
    public static byte[] get(Path path, String name) {
        return get(path.toString(), name, -1);
    }

    public static byte[] get(Fd fd, String name) {
        return get(fd.what(), name, fd.fd());
    }

    private static byte[] get(String path, String name, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment n = a.allocateFrom(name);
            MemorySegment p = fd < 0 ? a.allocateFrom(path) : MemorySegment.NULL;
            int size = 256;
            while (true) {
                MemorySegment buf = a.allocate(size);
                long r = fd < 0 ? (long) H.LGET.invokeExact(st, p, n, buf, (long) size)
                        : (long) H.FGET.invokeExact(st, fd, n, buf, (long) size);
                if (r >= 0) return buf.asSlice(0, r).toArray(JAVA_BYTE);
                int e = Native.errno(st);
                if (e == Errno.ENODATA) return null;
                if (e == Errno.ERANGE && size < (1 << 20)) {
                    size *= 16;
                    continue;
                }
                throw new SyscallException(fd < 0 ? "lgetxattr" : "fgetxattr", path + " " + name, e);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static void set(Path path, String name, byte[] value) {
        set(path.toString(), name, value, -1);
    }

    public static void set(Fd fd, String name, byte[] value) {
        set(fd.what(), name, value, fd.fd());
    }

    private static void set(String path, String name, byte[] value, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment n = a.allocateFrom(name);
            MemorySegment v = value.length == 0 ? a.allocate(1) : a.allocateFrom(JAVA_BYTE, value);
            int r = fd < 0 ? (int) H.LSET.invokeExact(st, a.allocateFrom(path), n, v, (long) value.length, 0)
                    : (int) H.FSET.invokeExact(st, fd, n, v, (long) value.length, 0);
            if (r < 0) throw new SyscallException(fd < 0 ? "lsetxattr" : "fsetxattr", path + " " + name, Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Attribute names, in the order the filesystem lists them. */
    public static List<String> list(Path path) {
        return list(path.toString(), -1);
    }

    public static List<String> list(Fd fd) {
        return list(fd.what(), fd.fd());
    }

    private static List<String> list(String path, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment p = fd < 0 ? a.allocateFrom(path) : MemorySegment.NULL;
            int size = 1024;
            while (true) {
                MemorySegment buf = a.allocate(size);
                long r = fd < 0 ? (long) H.LLIST.invokeExact(st, p, buf, (long) size)
                        : (long) H.FLIST.invokeExact(st, fd, buf, (long) size);
                if (r >= 0) return split(buf.asSlice(0, r).toArray(JAVA_BYTE));
                int e = Native.errno(st);
                if (e == Errno.ERANGE && size < (1 << 20)) {
                    size *= 16;
                    continue;
                }
                if (e == Errno.EOPNOTSUPP) return List.of();
                throw new SyscallException(fd < 0 ? "llistxattr" : "flistxattr", path, e);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Removes an attribute; an absent one is not an error. */
    public static void remove(Path path, String name) {
        remove(path.toString(), name, -1);
    }

    public static void remove(Fd fd, String name) {
        remove(fd.what(), name, fd.fd());
    }

    private static void remove(String path, String name, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment n = a.allocateFrom(name);
            int r = fd < 0 ? (int) H.LREMOVE.invokeExact(st, a.allocateFrom(path), n) : (int) H.FREMOVE.invokeExact(st, fd, n);
            if (r < 0 && Native.errno(st) != Errno.ENODATA) {
                throw new SyscallException(fd < 0 ? "lremovexattr" : "fremovexattr", path + " " + name, Native.errno(st));
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static List<String> split(byte[] names) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < names.length; i++) {
            if (names[i] == 0) {
                if (i > start) out.add(new String(names, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }
}
