package dev.strata.nativeio.fast;

import dev.strata.nativeio.Native;
import dev.strata.nativeio.SyscallException;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static dev.strata.nativeio.fast.Sys.EOPNOTSUPP;
import static dev.strata.nativeio.fast.Sys.ERANGE;
import static dev.strata.nativeio.fast.Sys.ENODATA;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Extended attributes for {@link Sys}, byte-exact: f* calls on an open fd, l* calls on
 * {@code /proc/self/fd/<dirfd>/<name>} (fd-relative; the final name is not followed). Uses its Sys's scratch memory,
 * so it is confined to the same thread.
 */
public final class XattrCalls {
    private static final class H {
        static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

        static MethodHandle call(String name, FunctionDescriptor fd) {
            return Native.LINKER.downcallHandle(Native.LIBC.findOrThrow(name), fd, ERRNO);
        }

        static final MethodHandle FSETXATTR = call("fsetxattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle LSETXATTR = call("lsetxattr", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle LLISTXATTR = call("llistxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle LGETXATTR = call("lgetxattr", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle FLISTXATTR = call("flistxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle FGETXATTR = call("fgetxattr", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle FREMOVEXATTR = call("fremovexattr", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    private final Sys s;

    XattrCalls(Sys s) {
        this.s = s;
    }

    public int fset(int fd, String xname, byte[] value) {
        try {
            MemorySegment v = valueSegment(value);
            int r = (int) H.FSETXATTR.invokeExact(s.st, fd, s.name(s.p2, xname), v, (long) value.length, 0);
            return r < 0 ? -s.errno() : 0;
        } catch (Throwable t) {
            throw Sys.rethrow(t);
        }
    }

    public int lsetAt(int dirfd, String name, String xname, byte[] value) {
        try {
            MemorySegment v = valueSegment(value);
            int r = (int) H.LSETXATTR.invokeExact(s.st, s.name(s.p1, Sys.procPath(dirfd, name)), s.name(s.p2, xname), v, (long) value.length, 0);
            return r < 0 ? -s.errno() : 0;
        } catch (Throwable t) {
            throw Sys.rethrow(t);
        }
    }

    public int fremove(int fd, String xname) {
        try {
            int r = (int) H.FREMOVEXATTR.invokeExact(s.st, fd, s.name(s.p2, xname));
            return r < 0 ? -s.errno() : 0;
        } catch (Throwable t) {
            throw Sys.rethrow(t);
        }
    }

    private MemorySegment valueSegment(byte[] value) {
        if (value.length > 0 && s.big.byteSize() < value.length) s.big = s.arena.allocate(value.length, 8);
        MemorySegment.copy(value, 0, s.big, JAVA_BYTE, 0, value.length);
        return s.big;
    }

    /** xattr names of an fd ({@code name} null) or of a name under a directory fd; empty when the fs has none. */
    public java.util.List<String> list(int fd, String name) {
        try {
            long r;
            while (true) {
                r = name == null ? (long) H.FLISTXATTR.invokeExact(s.st, fd, s.big, s.big.byteSize())
                        : (long) H.LLISTXATTR.invokeExact(s.st, s.name(s.p1, Sys.procPath(fd, name)), s.big, s.big.byteSize());
                if (r >= 0) break;
                int e = s.errno();
                if (e == ERANGE) {
                    s.big = s.arena.allocate(s.big.byteSize() * 4, 8);
                    continue;
                }
                if (e == EOPNOTSUPP) return java.util.List.of();
                throw new SyscallException(name == null ? "flistxattr" : "llistxattr", name == null ? "fd " + fd : Sys.procPath(fd, name), e);
            }
            if (r == 0) return java.util.List.of();
            byte[] b = s.big.asSlice(0, r).toArray(JAVA_BYTE);
            java.util.List<String> out = new java.util.ArrayList<>();
            int s = 0;
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    if (i > s) out.add(new String(b, s, i - s, StandardCharsets.ISO_8859_1));
                    s = i + 1;
                }
            }
            return out;
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw Sys.rethrow(t);
        }
    }

    /** An xattr's value, or null when it is absent. */
    public byte[] get(int fd, String name, String xname) {
        try {
            while (true) {
                long r = name == null ? (long) H.FGETXATTR.invokeExact(s.st, fd, s.name(s.p2, xname), s.big, s.big.byteSize())
                        : (long) H.LGETXATTR.invokeExact(s.st, s.name(s.p1, Sys.procPath(fd, name)), s.name(s.p2, xname), s.big, s.big.byteSize());
                if (r >= 0) return s.big.asSlice(0, r).toArray(JAVA_BYTE);
                int e = s.errno();
                if (e == ENODATA) return null;
                if (e == ERANGE) {
                    s.big = s.arena.allocate(s.big.byteSize() * 4, 8);
                    continue;
                }
                throw new SyscallException(name == null ? "fgetxattr" : "lgetxattr", xname, e);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw Sys.rethrow(t);
        }
    }
}
