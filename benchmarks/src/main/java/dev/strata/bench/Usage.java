package dev.strata.bench;

import dev.strata.nativeio.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * CPU time (user + system) of this process and of its waited-for children, from getrusage(2). Wall time on this
 * shared 2-core VM swings with other people's load; CPU time says what each side costs regardless.
 */
final class Usage {
    private static final MethodHandle GETRUSAGE = Native.plainCall("getrusage", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final int RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1;

    private Usage() {
    }

    /** {self ns, children ns}. */
    static long[] now() {
        return new long[]{cpu(RUSAGE_SELF), cpu(RUSAGE_CHILDREN)};
    }

    /** CPU ns spent by self and children since {@code before}. */
    static long since(long[] before) {
        long[] n = now();
        return (n[0] - before[0]) + (n[1] - before[1]);
    }

    private static long cpu(int who) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(144, 8);
            int rc = (int) GETRUSAGE.invokeExact(who, r);
            if (rc != 0) throw new IllegalStateException("getrusage failed");
            long utime = r.get(JAVA_LONG, 0) * 1_000_000_000L + r.get(JAVA_LONG, 8) * 1000L;
            long stime = r.get(JAVA_LONG, 16) * 1_000_000_000L + r.get(JAVA_LONG, 24) * 1000L;
            return utime + stime;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
