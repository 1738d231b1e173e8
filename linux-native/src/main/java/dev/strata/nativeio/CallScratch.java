package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * One thread's native memory for the path calls that every get and put makes (mount, umount2, mkdirat, unlinkat,
 * the read of a layer's small files, the mount-root check): the errno slot and the C strings, reused call after call
 * instead of a confined arena per call (an arena is a session, a malloc and a free per string). A call takes the
 * scratch with {@link #take}, writes its strings, makes the call and reads errno before it calls anything else;
 * nothing it calls in between takes the scratch again. The memory is an automatic arena's, so a thread's scratch is
 * freed with the thread, a virtual one included.
 */
final class CallScratch {
    private static final int INITIAL = 1024;
    private static final ThreadLocal<CallScratch> MINE = ThreadLocal.withInitial(CallScratch::new);

    final MemorySegment errno = Native.captureState(Arena.ofAuto());
    private MemorySegment area = Arena.ofAuto().allocate(INITIAL, 8);
    private long used;

    private CallScratch() {
    }

    /** This thread's scratch, its string area empty. */
    static CallScratch take() {
        CallScratch s = MINE.get();
        s.used = 0;
        return s;
    }

    /** {@code s} as a NUL-terminated UTF-8 string in the scratch; NULL for null. Valid until the next {@link #take}. */
    MemorySegment cString(String s) {
        if (s == null) return MemorySegment.NULL;
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return bytes(b, b.length);
    }

    /** {@code len} bytes of room (zeroed only where written), for a call to fill. */
    MemorySegment buffer(long len) {
        return room(len);
    }

    private MemorySegment bytes(byte[] b, int len) {
        MemorySegment seg = room(len + 1L);
        MemorySegment.copy(b, 0, seg, JAVA_BYTE, 0, len);
        seg.set(JAVA_BYTE, len, (byte) 0);
        return seg;
    }

    private MemorySegment room(long len) {
        long start = (used + 7) & ~7L;
        if (start + len > area.byteSize()) {
            // a bigger area; the segments handed out before keep the old one alive until this call is done
            area = Arena.ofAuto().allocate(Math.max(2 * area.byteSize(), start + len), 8);
            start = 0;
        }
        used = start + len;
        return area.asSlice(start, len);
    }
}
