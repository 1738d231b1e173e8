package dev.strata.driver.aufs;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Turns a writer of a tar ({@code LayerArchive.writeUpper} writes to an OutputStream) into the InputStream that
 * {@code diff} returns, with the writer on its own virtual thread and 64 KiB chunks handed over through a small
 * queue. A writer's failure reaches the reader as an IOException where the stream would have ended; closing the
 * reader early stops the writer.
 *
 * <p>Not {@code PipedInputStream}: it fails with "Read end dead" when the thread that last read has ended, which
 * is normal for a stream handed between threads (a server streaming a diff).
 */
final class TarPipe extends InputStream {
    /** Writes the whole tar to {@code out}. */
    @FunctionalInterface
    interface Producer {
        void writeTo(OutputStream out) throws IOException;
    }

    private static final int CHUNK = 1 << 16;
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(8);
    private final Thread producer;
    private volatile boolean closed;
    private volatile Throwable failure;
    private byte[] current;
    private int pos;

    private TarPipe(String name, Producer body) {
        producer = Thread.ofVirtual().name(name).unstarted(() -> {
            try (Sink sink = new Sink()) {
                body.writeTo(sink);
            } catch (Throwable t) {
                failure = t;
            } finally {
                try {
                    hand(END);
                } catch (IOException ignored) {
                    // the reader is gone
                }
            }
        });
    }

    static InputStream start(String name, Producer body) {
        TarPipe pipe = new TarPipe(name, body);
        pipe.producer.start();
        return pipe;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        if (closed) throw new IOException("diff stream is closed");
        if (len == 0) return 0;
        if (current == null || pos == current.length) {
            if (current == END) return -1;
            try {
                current = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading the diff");
            }
            pos = 0;
            if (current == END) {
                Throwable t = failure;
                if (t instanceof IOException io) throw new IOException(io.getMessage(), io);
                if (t != null) throw new IOException("writing the diff failed: " + t.getMessage(), t);
                return -1;
            }
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, buf, off, n);
        pos += n;
        return n;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        queue.clear();          // unblocks the writer, whose next hand-over sees closed and stops
        try {
            producer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void hand(byte[] chunk) throws IOException {
        try {
            while (!queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                if (closed) throw new IOException("the diff reader closed the stream");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing the diff");
        }
    }

    private final class Sink extends OutputStream {
        private byte[] buf = new byte[CHUNK];
        private int n;

        @Override
        public void write(int b) throws IOException {
            if (n == buf.length) drain();
            buf[n++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (n == buf.length) drain();
                int k = Math.min(len, buf.length - n);
                System.arraycopy(b, off, buf, n, k);
                n += k;
                off += k;
                len -= k;
            }
        }

        @Override
        public void close() throws IOException {
            drain();
        }

        private void drain() throws IOException {
            if (closed) throw new IOException("the diff reader closed the stream");
            if (n == 0) return;
            hand(n == buf.length ? buf : Arrays.copyOf(buf, n));
            if (n == buf.length) buf = new byte[CHUNK];
            n = 0;
        }
    }
}
