package dev.strata.archive.tar;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * A few 1 MiB buffers kept between archives. Each tar stream needs several; allocating them anew costs a zeroed,
 * freshly faulted megabyte each time (G1 allocates arrays this large outside the young generation), which showed up
 * in profiles of small layers. Buffers that are not given back are simply collected.
 */
public final class Buffers {
    public static final int SIZE = 1 << 20;
    private static final int KEEP = 12;
    private static final ArrayDeque<byte[]> HEAP = new ArrayDeque<>();
    private static final ArrayDeque<ByteBuffer> DIRECT = new ArrayDeque<>();

    private Buffers() {
    }

    /**
     * The most handed to an OutputStream in one write: a pipe's default capacity. Every JDK stream copies a heap
     * array before its write(2); copied 1 MiB at a time, that copy leaves the CPU's cache and runs while the pipe
     * sits empty, copied 64 KiB at a time it stays cached while the reader drains the last slice. A 20 MiB file's
     * tar into a pipe went from ~0.8 of `tar -b 2048 -cf`'s rate to ~1.3-1.5 (scripts/bench-archive, 2026-12-04).
     */
    public static final int SLICE = 64 << 10;

    /** {@code out.write(b, off, len)} in writes of at most {@link #SLICE} bytes. */
    public static void writeSliced(OutputStream out, byte[] b, int off, int len) throws IOException {
        for (int done = 0; done < len; ) {
            int n = Math.min(SLICE, len - done);
            out.write(b, off + done, n);
            done += n;
        }
    }

    public static byte[] heap() {
        synchronized (HEAP) {
            byte[] b = HEAP.poll();
            if (b != null) return b;
        }
        return new byte[SIZE];
    }

    public static void release(byte[] b) {
        if (b == null || b.length != SIZE) return;
        synchronized (HEAP) {
            if (HEAP.size() < KEEP) HEAP.push(b);
        }
    }

    public static ByteBuffer direct() {
        synchronized (DIRECT) {
            ByteBuffer b = DIRECT.poll();
            if (b != null) return b.clear();
        }
        return ByteBuffer.allocateDirect(SIZE);
    }

    public static void release(ByteBuffer b) {
        if (b == null || !b.isDirect() || b.capacity() != SIZE) return;
        synchronized (DIRECT) {
            if (DIRECT.size() < KEEP) DIRECT.push(b);
        }
    }
}
