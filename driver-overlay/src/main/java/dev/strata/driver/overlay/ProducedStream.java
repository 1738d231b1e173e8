package dev.strata.driver.overlay;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

/**
 * An InputStream whose bytes a producer writes on its own (virtual) thread, as a diff tar is produced while the
 * caller reads it. Bytes move in chunks through a small bounded queue, so memory stays bounded and neither side
 * copies byte by byte. A producer failure is rethrown to the reader; closing the stream early stops the producer
 * (its next write fails) and runs {@code onClose} once the producer has finished.
 */
final class ProducedStream extends InputStream {
    private static final int CHUNK = 256 * 1024;
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(8);
    /** Chunks the reader has drained, handed back to the producer: no allocation per chunk, no GC churn. */
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(16);
    private final Thread producer;
    private final Runnable onClose;
    private volatile boolean closed;
    private volatile Throwable failure;
    private byte[] current;
    private int pos;
    private boolean ended;

    private ProducedStream(Consumer<OutputStream> body, Runnable onClose, String name) {
        this.onClose = onClose;
        this.producer = Thread.ofVirtual().name(name).unstarted(() -> run(body));
    }

    /** Starts {@code body} writing into the returned stream. */
    static ProducedStream start(String name, Consumer<OutputStream> body, Runnable onClose) {
        ProducedStream s = new ProducedStream(body, onClose, name);
        s.producer.start();
        return s;
    }

    private void run(Consumer<OutputStream> body) {
        try (ChunkOut out = new ChunkOut()) {
            body.accept(out);
        } catch (Throwable t) {
            if (!closed) failure = t;
        } finally {
            offerEnd();
        }
    }

    private void offerEnd() {
        while (true) {
            try {
                if (closed) {
                    queue.clear();
                    queue.offer(END);
                    return;
                }
                queue.put(END);
                return;
            } catch (InterruptedException e) {
                // closed by the reader: drop what is queued
            }
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) throw new IOException("stream closed");
        if (len == 0) return 0;
        if (!fill()) return -1;
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }

    private boolean fill() throws IOException {
        while (current == null || pos >= current.length) {
            if (ended) return false;
            if (current != null && current.length == CHUNK) free.offer(current);
            try {
                current = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading a produced stream");
            }
            pos = 0;
            if (current == END) {
                ended = true;
                current = null;
                Throwable f = failure;
                if (f != null) {
                    if (f instanceof IOException io) throw io;
                    if (f instanceof RuntimeException r) throw r;
                    throw new IOException(f);
                }
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        producer.interrupt();
        queue.clear();
        try {
            producer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (onClose != null) onClose.run();
        }
    }

    /** The producer's side: buffers writes into chunks and queues each full one. */
    private final class ChunkOut extends OutputStream {
        private byte[] buf = new byte[CHUNK];
        private int n;

        @Override
        public void write(int b) throws IOException {
            if (n == buf.length) flushChunk();
            buf[n++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (n == buf.length) flushChunk();
                int k = Math.min(len, buf.length - n);
                System.arraycopy(b, off, buf, n, k);
                n += k;
                off += k;
                len -= k;
            }
        }

        private void flushChunk() throws IOException {
            if (closed) throw new IOException("reader closed the stream");
            if (n == 0) return;
            byte[] chunk = n == buf.length ? buf : java.util.Arrays.copyOf(buf, n);
            try {
                queue.put(chunk);
            } catch (InterruptedException e) {
                throw new InterruptedIOException("reader closed the stream");
            }
            byte[] recycled = free.poll();
            buf = recycled != null ? recycled : new byte[CHUNK];
            n = 0;
        }

        @Override
        public void close() throws IOException {
            flushChunk();
        }
    }
}
