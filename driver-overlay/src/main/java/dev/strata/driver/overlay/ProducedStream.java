package dev.strata.driver.overlay;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * An InputStream whose bytes a producer writes on its own (virtual) thread, as a diff tar is produced while the
 * caller reads it. A producer failure is rethrown to the reader; closing the stream early stops the producer (its
 * next write fails) and runs {@code onClose} once the producer has finished.
 *
 * <p>Small writes are gathered into chunks that travel through a bounded queue and are recycled. A large write
 * (file data: the tar writer hands over its 1 MiB buffer) is lent to the reader instead, which copies straight out
 * of it while the producer waits, as Go's io.Pipe does: one copy of the data fewer than gathering it.
 */
final class ProducedStream extends InputStream {
    private static final int CHUNK = 256 * 1024, LEND_AT = 64 * 1024;

    /** A run of bytes; {@code lent} is counted down when the reader is done with a lent one. */
    private record Piece(byte[] bytes, int off, int len, CountDownLatch lent) {
    }

    private static final Piece END = new Piece(new byte[0], 0, 0, null);

    private final BlockingQueue<Piece> queue = new ArrayBlockingQueue<>(8);
    /** Chunks the reader has drained, handed back to the producer: no allocation per chunk. */
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(16);
    private final Thread producer;
    private final Runnable onClose;
    private volatile boolean closed;
    private volatile Throwable failure;
    private Piece current;
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
        try (Out out = new Out()) {
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
        int n = Math.min(len, current.len - pos);
        System.arraycopy(current.bytes, current.off + pos, b, off, n);
        pos += n;
        if (pos == current.len) done(current);
        return n;
    }

    private void done(Piece p) {
        if (p.lent != null) p.lent.countDown();
        else if (p.bytes.length == CHUNK) free.offer(p.bytes);
        current = null;
    }

    private boolean fill() throws IOException {
        while (current == null) {
            if (ended) return false;
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
            if (current.len == 0) done(current);
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        if (current != null && current.lent != null) current.lent.countDown();
        producer.interrupt();
        for (Piece p; (p = queue.poll()) != null; ) if (p.lent != null) p.lent.countDown();
        try {
            producer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (onClose != null) onClose.run();
        }
    }

    /** The producer's side. */
    private final class Out extends OutputStream {
        private byte[] buf = new byte[CHUNK];
        private int n;

        @Override
        public void write(int b) throws IOException {
            if (n == buf.length) flushChunk();
            buf[n++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len >= LEND_AT) {
                flushChunk();
                lend(b, off, len);
                return;
            }
            while (len > 0) {
                if (n == buf.length) flushChunk();
                int k = Math.min(len, buf.length - n);
                System.arraycopy(b, off, buf, n, k);
                n += k;
                off += k;
                len -= k;
            }
        }

        /** Hands the caller's own bytes to the reader and waits until it has copied them out. */
        private void lend(byte[] b, int off, int len) throws IOException {
            CountDownLatch consumed = new CountDownLatch(1);
            put(new Piece(b, off, len, consumed));
            try {
                consumed.await();
            } catch (InterruptedException e) {
                throw new InterruptedIOException("reader closed the stream");
            }
            if (closed) throw new IOException("reader closed the stream");
        }

        private void flushChunk() throws IOException {
            if (n == 0) return;
            put(new Piece(buf, 0, n, null));
            byte[] recycled = free.poll();
            buf = recycled != null ? recycled : new byte[CHUNK];
            n = 0;
        }

        private void put(Piece p) throws IOException {
            if (closed) throw new IOException("reader closed the stream");
            try {
                queue.put(p);
            } catch (InterruptedException e) {
                throw new InterruptedIOException("reader closed the stream");
            }
        }

        @Override
        public void close() throws IOException {
            flushChunk();
        }
    }
}
