package dev.strata.plugin;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;

/**
 * A streamed request body (ApplyDiff's chunked tar) as an {@link InputStream} for a worker thread, fed by the event
 * loop with back-pressure: {@link #offer} says when to stop reading the socket, and {@code resumeReading} runs once the
 * reader has drained the queue below the low-water mark. At most {@link #HIGH_WATER} bytes (plus one socket read)
 * wait in memory, however large the layer.
 */
final class RequestBody extends InputStream {
    static final int HIGH_WATER = 1 << 20;
    static final int LOW_WATER = 256 << 10;

    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private final Runnable resumeReading;
    private long queued;
    private long consumed;
    private boolean ended;
    private boolean closed;
    private boolean paused;
    private IOException failure;

    /** @param resumeReading asks the channel for more data; called from the reader's thread */
    RequestBody(Runnable resumeReading) {
        this.resumeReading = resumeReading;
    }

    /**
     * Queues a piece of the body (taking over its reference). Returns whether the channel should read more now; if
     * not, {@code resumeReading} is called when it should.
     */
    synchronized boolean offer(ByteBuf piece) {
        if (closed) {
            piece.release();
            return true;
        }
        queue.add(piece);
        queued += piece.readableBytes();
        notifyAll();
        if (queued >= HIGH_WATER) {
            paused = true;
            return false;
        }
        return true;
    }

    /** The body ended normally. */
    synchronized void end() {
        ended = true;
        notifyAll();
    }

    /** The body will not end normally (the connection closed): the reader gets {@code cause}. */
    synchronized void abort(IOException cause) {
        if (!ended && failure == null) failure = cause;
        notifyAll();
    }

    /** Bytes handed to the reader so far. */
    synchronized long consumed() {
        return consumed;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        boolean resume = false;
        int n;
        synchronized (this) {
            while (queue.isEmpty()) {
                if (closed) throw new IOException("request body stream is closed");
                if (failure != null) throw failure;
                if (ended) return -1;
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for the request body");
                }
            }
            ByteBuf head = queue.peek();
            n = Math.min(len, head.readableBytes());
            head.readBytes(b, off, n);
            if (!head.isReadable()) queue.poll().release();
            queued -= n;
            consumed += n;
            if (paused && queued <= LOW_WATER) {
                paused = false;
                resume = true;
            }
        }
        if (resume) resumeReading.run();
        return n;
    }

    @Override
    public synchronized int available() {
        return (int) Math.min(Integer.MAX_VALUE, queued);
    }

    /** Drops what is queued; later pieces are released as they come, and reading resumes if it was paused. */
    @Override
    public void close() {
        boolean resume;
        synchronized (this) {
            if (closed) return;
            closed = true;
            queue.forEach(ByteBuf::release);
            queue.clear();
            queued = 0;
            resume = paused;
            paused = false;
            notifyAll();
        }
        if (resume) resumeReading.run();
    }
}
