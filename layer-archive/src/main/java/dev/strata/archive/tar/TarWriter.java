package dev.strata.archive.tar;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writes a POSIX (PAX) tar. A PAX extended header is written only for an entry that needs one: a name or link
 * target that does not fit ustar, a uid/gid of 2^21 or more, a size of 8 GiB or more, an mtime with a sub-second
 * part, xattrs ({@code SCHILY.xattr.*}, values byte-exact) or a sparse map (GNU PAX sparse 1.0, which GNU tar
 * reads and writes). Everything else is a plain ustar header, so that a tree of whole-second files costs one
 * block per entry, as GNU tar's does.
 *
 * <p>Entry data goes through one reusable buffer; {@link #writeData(Source, long)} reads straight into it.
 */
public final class TarWriter implements AutoCloseable {
    /** Something that fills a buffer: a file descriptor, a stream. Returns -1 at end of input. */
    @FunctionalInterface
    public interface Source {
        int read(byte[] buf, int off, int len) throws IOException;
    }

    /**
     * An output that takes whole buffers instead of copying them: it keeps {@code full} (its first {@code len} bytes
     * are data) and hands back an empty buffer of the same size to go on with.
     */
    public interface BufferSink {
        byte[] take(byte[] full, int len) throws IOException;
    }

    public static final int BUFFER = Buffers.SIZE;
    private final OutputStream out;
    private final BufferSink sink;
    private byte[] buf = Buffers.heap();
    private int pos;
    private long remaining;
    private long entryStored;
    private final Ustar block = new Ustar();
    private final ByteArrayOutputStream pax = new ByteArrayOutputStream();
    private boolean finished;

    public TarWriter(OutputStream out) {
        this.out = out;
        this.sink = out instanceof BufferSink b ? b : null;
    }

    /** Writes the header(s) of an entry; its data must follow ({@link TarHeader#storedSize()} bytes). */
    public void writeHeader(TarHeader h) {
        if (remaining != 0) throw new IllegalStateException("previous entry is missing " + remaining + " data bytes");
        closeEntryPadding();
        boolean sparse = h.sparse != null && h.isRegular();
        byte[] sparseMap = sparse ? sparseMap(h.sparse) : null;
        long stored = sparse ? sparseMap.length + h.storedSize() : h.storedSize();
        String name = sparse ? sparseUstarName(h.name) : h.name;

        pax.reset();
        String[] split = splitName(name);
        if (sparse) {
            Pax.record(pax, "GNU.sparse.major", "1");
            Pax.record(pax, "GNU.sparse.minor", "0");
            Pax.record(pax, "GNU.sparse.name", h.name);
            Pax.record(pax, "GNU.sparse.realsize", Long.toString(h.size));
        } else if (split == null) {
            Pax.record(pax, "path", h.name);
        }
        if (h.linkName.length() > Ustar.LINK_LEN) Pax.record(pax, "linkpath", h.linkName);
        if (!Ustar.fitsOctal(stored, 12)) Pax.record(pax, "size", Long.toString(stored));
        if (!Ustar.fitsOctal(h.uid, 8)) Pax.record(pax, "uid", Long.toString(h.uid));
        if (!Ustar.fitsOctal(h.gid, 8)) Pax.record(pax, "gid", Long.toString(h.gid));
        long sec = Math.floorDiv(h.mtimeNanos, 1_000_000_000L);
        if (Math.floorMod(h.mtimeNanos, 1_000_000_000L) != 0 || !Ustar.fitsOctal(sec, 12)) {
            Pax.record(pax, "mtime", Pax.formatTime(h.mtimeNanos));
        }
        for (Map.Entry<String, byte[]> x : h.xattrs.entrySet()) {
            Pax.record(pax, Pax.XATTR + x.getKey(), x.getValue());
        }
        if (pax.size() > 0) {
            byte[] records = pax.toByteArray();
            block.clear().magic().name(paxName(h.name)).mode(0644).uid(0).gid(0).size(records.length)
                    .mtime(Math.max(0, sec)).type(TarHeader.PAX_LOCAL).checksum();
            put(block.bytes(), 0, Ustar.BLOCK);
            put(records, 0, records.length);
            pad(records.length);
        }
        block.clear().magic();
        if (split != null) {
            block.putClear(Ustar.NAME, Ustar.NAME_LEN, split[1]).putClear(Ustar.PREFIX, Ustar.PREFIX_LEN, split[0]);
        } else {
            block.putClear(Ustar.NAME, Ustar.NAME_LEN, name);
        }
        block.mode(h.mode & 07777).uid(Ustar.fitsOctal(h.uid, 8) ? h.uid : 0).gid(Ustar.fitsOctal(h.gid, 8) ? h.gid : 0)
                .size(Ustar.fitsOctal(stored, 12) ? stored : 0).mtime(Ustar.fitsOctal(sec, 12) ? sec : 0)
                .type(h.type == TarHeader.REGULAR_OLD || h.type == TarHeader.CONTIGUOUS ? TarHeader.REGULAR : h.type)
                .putClear(Ustar.LINK, Ustar.LINK_LEN, h.linkName);
        if (h.type == TarHeader.CHAR || h.type == TarHeader.BLOCK) block.dev(h.devMajor, h.devMinor);
        block.checksum();
        put(block.bytes(), 0, Ustar.BLOCK);
        remaining = stored;
        entryStored = stored;
        if (sparse) {
            put(sparseMap, 0, sparseMap.length);
            remaining -= sparseMap.length;
        }
    }

    /** Entry data from a byte array. */
    public void write(byte[] b, int off, int len) {
        if (len > remaining) throw new IllegalStateException("entry data exceeds its size by " + (len - remaining));
        put(b, off, len);
        remaining -= len;
    }

    /**
     * Copies exactly {@code len} bytes of entry data from {@code src}, reading straight into the output buffer.
     *
     * @throws IOException when the source ends early (a file that shrank while being archived)
     */
    public void writeData(Source src, long len) throws IOException {
        if (len > remaining) throw new IllegalStateException("entry data exceeds its size by " + (len - remaining));
        long left = len;
        while (left > 0) {
            if (pos == buf.length) flushBuffer();
            int n = src.read(buf, pos, (int) Math.min(left, buf.length - pos));
            if (n < 0) throw new IOException("input ended " + left + " bytes early");
            pos += n;
            left -= n;
        }
        remaining -= len;
    }

    /** Writes raw bytes with no bookkeeping (the hostile corpus builds malformed archives with it). */
    public void raw(byte[] b) {
        if (remaining != 0) throw new IllegalStateException("previous entry is missing " + remaining + " data bytes");
        closeEntryPadding();
        put(b, 0, b.length);
    }

    /** Ends the archive: two zero blocks. Does not close the underlying stream. */
    public void finish() {
        if (finished) return;
        if (remaining != 0) throw new IllegalStateException("last entry is missing " + remaining + " data bytes");
        closeEntryPadding();
        byte[] zero = new byte[2 * Ustar.BLOCK];
        put(zero, 0, zero.length);
        flushBuffer();
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        finished = true;
        Buffers.release(buf);
        buf = null;
    }

    @Override
    public void close() {
        finish();
    }

    private void closeEntryPadding() {
        if (entryStored > 0) {
            pad(entryStored);
            entryStored = 0;
        }
    }

    private void pad(long size) {
        int r = (int) (size % Ustar.BLOCK);
        if (r == 0) return;
        int n = Ustar.BLOCK - r;
        if (buf.length - pos < n) flushBuffer();
        java.util.Arrays.fill(buf, pos, pos + n, (byte) 0);
        pos += n;
    }

    private void put(byte[] b, int off, int len) {
        if (len >= buf.length) {
            flushBuffer();
            try {
                Buffers.writeSliced(out, b, off, len);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
        }
        if (buf.length - pos < len) flushBuffer();
        System.arraycopy(b, off, buf, pos, len);
        pos += len;
    }

    private void flushBuffer() {
        if (pos == 0) return;
        try {
            if (sink != null) {
                buf = sink.take(buf, pos);
                pos = 0;
                return;
            }
            Buffers.writeSliced(out, buf, 0, pos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pos = 0;
    }

    /** {prefix, name} when the raw name fits ustar's fields, else null. */
    static String[] splitName(String name) {
        if (name.length() <= Ustar.NAME_LEN) return new String[]{"", name};
        if (name.length() > Ustar.NAME_LEN + 1 + Ustar.PREFIX_LEN) return null;
        // A trailing '/' of a directory must stay in the name part.
        for (int i = Math.min(name.length() - 2, Ustar.PREFIX_LEN); i > 0; i--) {
            if (name.charAt(i) == '/' && name.length() - i - 1 <= Ustar.NAME_LEN) {
                // prefer the longest prefix that fits so that the name part stays short
                return new String[]{name.substring(0, i), name.substring(i + 1)};
            }
        }
        return null;
    }

    private static String paxName(String name) {
        String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        String base = n.substring(n.lastIndexOf('/') + 1);
        String p = "PaxHeaders/" + base;
        return p.length() > Ustar.NAME_LEN ? p.substring(0, Ustar.NAME_LEN) : p;
    }

    private static String sparseUstarName(String name) {
        int slash = name.lastIndexOf('/');
        String dir = slash < 0 ? "." : name.substring(0, slash);
        String n = dir + "/GNUSparseFile.0/" + name.substring(slash + 1);
        return n.length() > Ustar.NAME_LEN ? n.substring(n.length() - Ustar.NAME_LEN) : n;
    }

    /** The PAX 1.0 sparse map that precedes the data: count, then offset/length lines, padded to a block. */
    private static byte[] sparseMap(long[] map) {
        StringBuilder s = new StringBuilder();
        s.append(map.length / 2).append('\n');
        for (long v : map) s.append(v).append('\n');
        byte[] text = s.toString().getBytes(StandardCharsets.ISO_8859_1);
        int padded = (text.length + Ustar.BLOCK - 1) / Ustar.BLOCK * Ustar.BLOCK;
        return java.util.Arrays.copyOf(text, padded);
    }
}
