package dev.strata.archive.tar;

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
