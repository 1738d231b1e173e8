package dev.strata.conformance;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;

/**
 * A tar stream that never ends: {@code slow/file-N} entries of 4 KiB, fast for the first 256 KiB, then about
 * one entry every 5 ms. {@code onStarted} runs once the reader has taken the fast part, i.e. is inside its apply.
 */
final class EndlessTarStream extends InputStream {
    private static final int FAST_BYTES = 256 * 1024;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar = new TarArchiveOutputStream(pending, 512);
    private final byte[] content = RandomContent.of(4096, 42);
    private Runnable onStarted;
    private byte[] chunk = new byte[0];
    private int pos;
    private long produced;
    private int entries;

    EndlessTarStream(Runnable onStarted) {
        this.onStarted = onStarted;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        if (pos == chunk.length) refill();
        int n = Math.min(len, chunk.length - pos);
        System.arraycopy(chunk, pos, b, off, n);
        pos += n;
        return n;
    }

    private void refill() throws IOException {
        if (produced >= FAST_BYTES) {
            if (onStarted != null) {
                onStarted.run();
                onStarted = null;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("endless tar stream interrupted");
            }
        }
        if (entries == 0) {
            TarArchiveEntry dir = new TarArchiveEntry("slow/");
            dir.setMode(040755);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
        }
        TarArchiveEntry e = new TarArchiveEntry("slow/file-" + entries++);
        e.setMode(0100644);
        e.setSize(content.length);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
        tar.flush();
        chunk = pending.toByteArray();
        pending.reset();
        pos = 0;
        produced += chunk.length;
    }
}
