package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** ioctl(2), with a pointer argument or an integer argument. */
public final class Ioctl {
    private static final class H {
        static final MethodHandle PTR = Native.errnoCallVariadic("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
        static final MethodHandle LONG = Native.errnoCallVariadic("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    }

    private Ioctl() {
    }

    /** ioctl(fd, request, arg) with a pointer; returns the call's non-negative result. */
    public static int call(Fd fd, long request, MemorySegment arg, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) H.PTR.invokeExact(st, fd.fd(), request, arg);
            if (r < 0) throw new SyscallException("ioctl " + what, fd.what(), Native.errno(st));
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** ioctl(fd, request, arg) with an integer argument. */
    public static int call(Fd fd, long request, long arg, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = (int) H.LONG.invokeExact(st, fd.fd(), request, arg);
            if (r < 0) throw new SyscallException("ioctl " + what, fd.what(), Native.errno(st));
            return r;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
