package dev.strata.archive;

import dev.strata.archive.tar.Buffers;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * An InputStream fed by a producer thread through a bounded queue of buffers (java.io's PipedInputStream moves
 * 1 KiB at a time and polls once a second). Closing it early stops the producer at its next write and waits for
 * it to finish, so that whatever the producer holds (open files, a mounted layer) is released when close returns.
 * A producer failure surfaces as an IOException from read, carrying the cause.
 */
final class ProducerStream extends InputStream {
    private static final int CHUNK = dev.strata.archive.tar.TarWriter.BUFFER, MAX_QUEUED = 4;

    private final Object lock = new Object();
    private final ArrayDeque<byte[]> full = new ArrayDeque<>();
    private final ArrayDeque<Integer> lengths = new ArrayDeque<>();
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    private final Thread producer;
    private byte[] head;
    private int headPos, headLen;
    private boolean done;
    private volatile boolean closed;
    private Throwable failure;
    private final Runnable onClose;

    /** Starts {@code body} on a new thread, writing into the stream this returns. */
    ProducerStream(String name, Consumer<OutputStream> body, Runnable onClose) {
        this.onClose = onClose;
        this.producer = Thread.ofPlatform().name(name).daemon(true).unstarted(() -> {
            Throwable t = null;
            try (Sink sink = new Sink()) {
                body.accept(sink);
            } catch (Throwable e) {
                t = e;
            }
            synchronized (lock) {
                if (t != null && !(t instanceof Stopped) && !(t.getCause() instanceof Stopped)) failure = t;
                done = true;
                lock.notifyAll();
            }
        });
        producer.start();
    }

    /** Thrown into the producer when the reader has closed. */
    private static final class Stopped extends IOException {
        Stopped() {
            super("the reader closed the stream", null);
        }
    }

    private final class Sink extends OutputStream implements dev.strata.archive.tar.TarWriter.BufferSink {
        private byte[] buf = Buffers.heap();
        private int pos;

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, buf.length - pos);
                System.arraycopy(b, off, buf, pos, n);
                pos += n;
                off += n;
                len -= n;
                if (pos == buf.length) flush();
            }
        }

        /** Takes a full buffer from the tar writer as it is: no copy. */
        @Override
        public byte[] take(byte[] full, int len) throws IOException {
            flush();
            byte[] next = enqueue(full, len);
            return next.length == full.length ? next : new byte[full.length];
        }

        @Override
        public void flush() throws IOException {
            if (pos == 0) return;
            buf = enqueue(buf, pos);
            pos = 0;
        }

        private byte[] enqueue(byte[] b, int len) throws IOException {
            synchronized (lock) {
                while (full.size() >= MAX_QUEUED && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        throw new InterruptedIOException();
                    }
                }
                if (closed) throw new Stopped();
                full.add(b);
                lengths.add(len);
                lock.notifyAll();
                return free.isEmpty() ? Buffers.heap() : free.poll();
            }
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) throw new IOException("stream closed");
        if (len == 0) return 0;
        if (head == null || headPos == headLen) {
            if (!nextChunk()) return -1;
        }
        int n = Math.min(len, headLen - headPos);
        System.arraycopy(head, headPos, b, off, n);
        headPos += n;
        return n;
    }

    private boolean nextChunk() throws IOException {
        synchronized (lock) {
            if (closed) throw new IOException("stream closed");
            if (head != null) free.add(head);
            head = null;
            while (full.isEmpty() && !done) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    throw new InterruptedIOException();
                }
            }
            if (full.isEmpty()) {
                if (failure != null) throw new IOException("layer tar producer failed: " + failure.getMessage(), failure);
                return false;
            }
            head = full.poll();
            headLen = lengths.poll();
            headPos = 0;
            lock.notifyAll();
            return true;
        }
    }

    /** Hands each buffer to {@code out} as it is (in {@link Buffers#SLICE} writes), without copying it into a caller's array first. */
    @Override
    public long transferTo(OutputStream out) throws IOException {
        long n = 0;
        if (closed) throw new IOException("stream closed");
        if (head != null && headPos < headLen) {
            Buffers.writeSliced(out, head, headPos, headLen - headPos);
            n += headLen - headPos;
            headPos = headLen;
        }
        while (nextChunk()) {
            Buffers.writeSliced(out, head, 0, headLen);
            n += headLen;
            headPos = headLen;
        }
        return n;
    }

    @Override
    public int available() {
        synchronized (lock) {
            return head == null ? 0 : headLen - headPos;
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (lock) {
            if (closed) return;
            closed = true;
            full.clear();
            lengths.clear();
            lock.notifyAll();
        }
        try {
            producer.join();
            synchronized (lock) {
                for (byte[] b : free) dev.strata.archive.tar.Buffers.release(b);
                free.clear();
                if (head != null) dev.strata.archive.tar.Buffers.release(head);
                head = null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping the tar producer");
        } finally {
            if (onClose != null) onClose.run();
        }
    }
}
