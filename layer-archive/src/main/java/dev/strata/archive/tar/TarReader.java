package dev.strata.archive.tar;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a tar stream (ustar, PAX, GNU), folding extended headers into one {@link TarHeader} per entry. PAX values
 * stay bytes ({@code SCHILY.xattr.*} byte-exact). Sparse files: PAX 0.0, 0.1 and 1.0 and old GNU ('S') maps are
 * read into {@link TarHeader#sparse} and checked; the data that follows is the concatenated data regions.
 * Global PAX headers are read and ignored (a global {@code path} means nothing for a layer).
 *
 * <p>Anything malformed is a {@link TarFormatException} naming the entry; nothing is guessed.
 */
public final class TarReader {
    /** Receives entry data straight from the read buffer. */
    @FunctionalInterface
    public interface Sink {
        void write(byte[] buf, int off, int len) throws IOException;
    }

    /**
     * A sink that can also take data straight from a file channel (copy_file_range through
     * {@link FileChannel#transferTo}), with no copy through user space.
     */
    public interface ChannelSink extends Sink {
        void transferFrom(FileChannel in, long position, long count) throws IOException;

        /** Data from the reader's native buffer (channel mode), with no copy into the Java heap. */
        void write(MemorySegment buf, long off, int len) throws IOException;
    }

    /** Below this, entry data goes through the read buffer even when a channel could send it directly. */
    private static final long DIRECT_MIN = 256 * 1024;
    private static final int MAX_LONG_NAME = 64 * 1024;
    private static final long MAX_UID = 0xffff_ffffL;

    private final InputStream in;
    private final FileChannel channel;
    /** Stream mode: the read buffer. Channel mode: null, and {@link #nbuf}/{@link #seg} hold the data natively. */
    private final byte[] buf;
    private final java.nio.ByteBuffer nbuf;
    private final MemorySegment seg;
    private int pos, lim;
    private long remaining; // stored data bytes left in the current entry
    private long padding; // bytes of padding after them
    private boolean ended;
    private final TarHeader h = new TarHeader();
    private final Ustar block = new Ustar(new byte[Ustar.BLOCK]);
    private long entrySizeTotal;
    private boolean started; // a whole header block was read

    public TarReader(InputStream in) {
        this.in = in;
        this.channel = null;
        this.buf = Buffers.heap();
        this.nbuf = null;
        this.seg = null;
    }

    public TarReader(InputStream in, int bufferSize) {
        this.in = in;
        this.channel = null;
        this.buf = new byte[Math.max(bufferSize, 4 * Ustar.BLOCK)];
        this.nbuf = null;
        this.seg = null;
    }

    /**
     * Reads from a file channel, from its current position. Large entry data can then go from the archive file to
     * a {@link ChannelSink} in the kernel (copy_file_range) instead of through this reader's buffer.
     */
    public TarReader(FileChannel channel) {
        this.in = null;
        this.channel = channel;
        this.buf = null;
        this.nbuf = Buffers.direct();
        this.seg = MemorySegment.ofBuffer(nbuf);
    }

    /** Gives the read buffer back to the pool; the reader must not be used afterwards. */
    public void release() {
        if (nbuf != null) Buffers.release(nbuf);
        else if (buf != null && buf.length == Buffers.SIZE) Buffers.release(buf);
    }

    /** Copies buffered bytes [pos, pos+len) into {@code dst}. */
    private void copyOut(byte[] dst, int off, int len) {
        if (buf != null) System.arraycopy(buf, pos, dst, off, len);
        else MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, dst, off, len);
    }

    /** The next entry (the same instance each time), or null at the end of the archive. */
    public TarHeader next() {
        if (ended) return null;
        skipData(remaining);
        if (!skipPadding()) {
            ended = true;
            return null; // the input ends right after an entry's data: Go's reader ends the archive there too
        }
        Map<String, byte[]> pax = null;
        String longName = null, longLink = null;
        while (true) {
            if (!readBlock()) {
                ended = true;
                return null; // EOF on a header boundary: accepted as the end, as GNU tar and Go do
            }
            if (block.isZero()) {
                // Go's reader: one zero block then the end of the stream, or two zero blocks, end the archive; a
                // zero block before anything else is a broken archive, not an end to stop at quietly
                if (readBlock() && !block.isZero()) throw new TarFormatException("", "a header follows a single zero block");
                ended = true;
                drain();
                return null;
            }
            String fieldName = block.string(Ustar.NAME, Ustar.NAME_LEN);
            String what = longName != null ? longName : fieldName;
            if (!block.checksumValid()) throw new TarFormatException(what, "header checksum mismatch");
            byte type = block.type();
            long size = number(what, Ustar.SIZE, 12, "size");
            switch (type) {
                case TarHeader.PAX_LOCAL, TarHeader.PAX_GLOBAL -> {
                    if (size > Pax.MAX_HEADER) throw new TarFormatException(what, "extended header of " + size + " bytes is too large");
                    byte[] data = readFully(what, (int) size);
                    Map<String, byte[]> records = new LinkedHashMap<>();
                    try {
                        Pax.parse(data, data.length, (k, v) -> {
                            if (k.startsWith("GNU.sparse.offset") || k.startsWith("GNU.sparse.numbytes")) {
                                // PAX sparse 0.0 repeats these keys: keep every one, in order
                                records.merge(k, v, (a, b) -> SparseMap.concat(a, b));
                            } else {
                                records.put(k, v);
                            }
                        });
                    } catch (IllegalArgumentException e) {
                        throw new TarFormatException(what, "malformed extended header: " + e.getMessage());
                    }
                    if (type == TarHeader.PAX_LOCAL) {
                        if (pax == null) pax = records;
                        else pax.putAll(records);
                    }
                }
                case TarHeader.GNU_LONGNAME, TarHeader.GNU_LONGLINK -> {
                    if (size > MAX_LONG_NAME) throw new TarFormatException(what, "GNU long name of " + size + " bytes is too large");
                    byte[] data = readFully(what, (int) size);
                    int end = 0;
                    while (end < data.length && data[end] != 0) end++;
                    String v = new String(data, 0, end, StandardCharsets.ISO_8859_1);
                    if (type == TarHeader.GNU_LONGNAME) longName = v;
                    else longLink = v;
                }
                default -> {
                    build(what, size, pax, longName, longLink);
                    return h;
                }
            }
        }
    }

    private void build(String what, long size, Map<String, byte[]> pax, String longName, String longLink) {
        h.reset();
        h.type = block.type();
        // pre-POSIX tars mark a directory only by a trailing slash on a regular entry (Go's reader does the same)
        if ((h.type == TarHeader.REGULAR || h.type == TarHeader.REGULAR_OLD) && block.string(Ustar.NAME, Ustar.NAME_LEN).endsWith("/")
                && longName == null && pax == null) {
            h.type = TarHeader.DIRECTORY;
        }
        String name = block.string(Ustar.NAME, Ustar.NAME_LEN);
        if (block.isUstar() && !block.isOldGnu()) {
            String prefix = block.string(Ustar.PREFIX, Ustar.PREFIX_LEN);
            if (!prefix.isEmpty()) name = prefix + "/" + name;
        }
        if (longName != null) name = longName;
        h.name = name;
        h.linkName = longLink != null ? longLink : block.string(Ustar.LINK, Ustar.LINK_LEN);
        h.mode = (int) (number(what, Ustar.MODE, 8, "mode") & 07777);
        h.uid = number(what, Ustar.UID, 8, "uid");
        h.gid = number(what, Ustar.GID, 8, "gid");
        h.mtimeNanos = Math.multiplyExact(number(what, Ustar.MTIME, 12, "mtime"), 1_000_000_000L);
        if (h.type == TarHeader.CHAR || h.type == TarHeader.BLOCK) {
            h.devMajor = (int) number(what, Ustar.DEVMAJOR, 8, "devmajor");
            h.devMinor = (int) number(what, Ustar.DEVMINOR, 8, "devminor");
        }
        long stored = size;
        String sparseName = null;
        long realSize = -1;
        int sparseMajor = -1, sparseMinor = -1;
        List<Long> sparseMap = null;
        if (pax != null) {
            for (Map.Entry<String, byte[]> r : pax.entrySet()) {
                String k = r.getKey();
                byte[] v = r.getValue();
                String s = new String(v, StandardCharsets.ISO_8859_1);
                try {
                    switch (k) {
                        case "path" -> h.name = s;
                        case "linkpath" -> h.linkName = s;
                        case "size" -> stored = Pax.parseDecimal(k, s);
                        case "uid" -> h.uid = Pax.parseDecimal(k, s);
                        case "gid" -> h.gid = Pax.parseDecimal(k, s);
                        case "mtime" -> h.mtimeNanos = Pax.parseTime(s);
                        case "GNU.sparse.major" -> sparseMajor = (int) Pax.parseDecimal(k, s);
                        case "GNU.sparse.minor" -> sparseMinor = (int) Pax.parseDecimal(k, s);
                        case "GNU.sparse.name" -> sparseName = s;
                        case "GNU.sparse.realsize", "GNU.sparse.size" -> realSize = Pax.parseDecimal(k, s);
                        case "GNU.sparse.map" -> sparseMap = SparseMap.decimals(s.isEmpty() ? new String[0] : s.split(","));
                        case "GNU.sparse.offset" -> sparseMap = SparseMap.interleave(sparseMap, s, true);
                        case "GNU.sparse.numbytes" -> sparseMap = SparseMap.interleave(sparseMap, s, false);
                        default -> {
                            if (k.startsWith(Pax.XATTR)) {
                                String xname = k.substring(Pax.XATTR.length());
                                if (xname.isEmpty() || xname.indexOf(0) >= 0) throw new IllegalArgumentException("bad xattr name");
                                h.xattrs.put(xname, v);
                            }
                            // atime, ctime, uname, gname, comment, charset, LIBARCHIVE.*, ...: not applied
                        }
                    }
                } catch (IllegalArgumentException e) {
                    throw new TarFormatException(h.name.isEmpty() ? what : h.name, "bad extended header record " + k + ": " + e.getMessage());
                } catch (ArithmeticException e) {
                    throw new TarFormatException(what, "record " + k + " out of range");
                }
            }
        }
        if (sparseName != null) h.name = sparseName;
        if (h.uid > MAX_UID || h.gid > MAX_UID) throw new TarFormatException(h.name, "uid/gid " + h.uid + ":" + h.gid + " out of range");
        if (h.name.indexOf(0) >= 0) throw new TarFormatException(h.name, "name contains a NUL byte");
        if (h.linkName.indexOf(0) >= 0) throw new TarFormatException(h.name, "link target contains a NUL byte");

        boolean headerOnly = switch (h.type) {
            case TarHeader.HARDLINK, TarHeader.SYMLINK, TarHeader.CHAR, TarHeader.BLOCK, TarHeader.DIRECTORY, TarHeader.FIFO -> true;
            default -> false;
        };
        if (headerOnly) stored = 0;
        remaining = stored;
        padding = (Ustar.BLOCK - stored % Ustar.BLOCK) % Ustar.BLOCK;
        entrySizeTotal = stored;
        h.size = h.isRegular() || h.type == TarHeader.GNU_SPARSE ? stored : 0;

        if (h.type == TarHeader.GNU_SPARSE) {
            oldGnuSparse(what);
            h.type = TarHeader.REGULAR;
        } else if (sparseMajor == 1 && sparseMinor == 0) {
            if (realSize < 0) throw new TarFormatException(h.name, "PAX sparse 1.0 without GNU.sparse.realsize");
            h.sparse = readSparse10Map();
            h.size = realSize;
        } else if (sparseMap != null || realSize >= 0) {
            if (sparseMap == null || realSize < 0 || sparseMap.size() % 2 != 0) {
                throw new TarFormatException(h.name, "incomplete PAX sparse map");
            }
            h.sparse = SparseMap.toArray(sparseMap);
            h.size = realSize;
        }
        if (h.sparse != null) SparseMap.check(h, remaining);
    }


    private long[] readSparse10Map() {
        // decimal lines: count, then offset/length pairs; the map is padded to a block and counts as entry data
        List<Long> vals = new ArrayList<>();
        long count = -1;
        StringBuilder cur = new StringBuilder();
        long consumed = 0;
        while (count < 0 || vals.size() < 2 * count) {
            int c = readDataByte();
            consumed++;
            if (c == '\n') {
                if (cur.isEmpty()) throw new TarFormatException(h.name, "empty number in the sparse map");
                long v = Long.parseLong(cur.toString());
                cur.setLength(0);
                if (count < 0) {
                    if (v > 1_000_000) throw new TarFormatException(h.name, "sparse map of " + v + " regions is too large");
                    count = v;
                } else {
                    vals.add(v);
                }
            } else if (c >= '0' && c <= '9' && cur.length() < 19) {
                cur.append((char) c);
            } else {
                throw new TarFormatException(h.name, "malformed sparse map");
            }
        }
        long pad = (Ustar.BLOCK - consumed % Ustar.BLOCK) % Ustar.BLOCK;
        if (pad > remaining) throw new TarFormatException(h.name, "sparse map overruns the entry");
        skipData(pad);
        return SparseMap.toArray(vals);
    }

    private void oldGnuSparse(String what) {
        List<Long> vals = new ArrayList<>();
        byte[] b = block.bytes();
        for (int i = 0; i < 4; i++) addGnuSparse(vals, block, Ustar.GNU_SPARSE + i * 24);
        long real = number(what, Ustar.GNU_REALSIZE, 12, "realsize");
        boolean extended = b[Ustar.GNU_ISEXTENDED] != 0;
        while (extended) {
            // extension blocks come before the data and are not counted in the size field
            if (!readBlock()) throw new TarFormatException(what, "archive ends inside a sparse header");
            for (int i = 0; i < 21; i++) addGnuSparse(vals, block, i * 24);
            extended = block.bytes()[504] != 0;
        }
        h.sparse = SparseMap.toArray(vals);
        h.size = real;
    }

    private void addGnuSparse(List<Long> vals, Ustar u, int off) {
        if (u.bytes()[off] == 0) return;
        vals.add(number(h.name, off, 12, "sparse offset"));
        vals.add(number(h.name, off + 12, 12, "sparse length"));
    }

    /** Stored data bytes left in the current entry. */
    public long remaining() {
        return remaining;
    }

    /** Reads entry data; -1 at the end of the entry. */
    public int read(byte[] b, int off, int len) {
        if (remaining == 0) return -1;
        if (pos == lim && !fill()) throw eof();
        int n = (int) Math.min(Math.min(len, lim - pos), remaining);
        copyOut(b, off, n);
        pos += n;
        remaining -= n;
        return n;
    }

    /** Hands exactly {@code n} bytes of entry data to {@code sink}, from the read buffer without copying. */
    public void transfer(long n, Sink sink) throws IOException {
        if (n > remaining) throw new IllegalArgumentException("only " + remaining + " bytes left in " + h.name);
        long left = n;
        while (left > 0) {
            if (pos == lim && channel != null && left >= DIRECT_MIN && sink instanceof ChannelSink cs) {
                // the buffer is drained, so the channel's position is exactly where this data starts
                long p = channel.position();
                if (channel.size() - p < left) throw eof();
                cs.transferFrom(channel, p, left);
                channel.position(p + left);
                remaining -= left;
                return;
            }
            if (pos == lim && !fill()) throw eof();
            int k = (int) Math.min(left, lim - pos);
            if (buf != null) {
                sink.write(buf, pos, k);
            } else if (sink instanceof ChannelSink cs) {
                cs.write(seg, pos, k);
            } else {
                byte[] tmp = new byte[k];
                copyOut(tmp, 0, k);
                sink.write(tmp, 0, k);
            }
            pos += k;
            left -= k;
            remaining -= k;
        }
    }

    /** Skips {@code n} bytes of entry data. */
    public void skipData(long n) {
        if (n > remaining) throw new IllegalArgumentException("only " + remaining + " bytes left");
        long left = n;
        while (left > 0) {
            if (pos == lim && !fill()) throw eof();
            int k = (int) Math.min(left, lim - pos);
            pos += k;
            left -= k;
            remaining -= k; // so that eof() counts what is really missing
        }
    }

    private int readDataByte() {
        if (remaining == 0) throw new TarFormatException(h.name, "sparse map overruns the entry");
        if (pos == lim && !fill()) throw eof();
        remaining--;
        return (buf != null ? buf[pos++] : seg.get(ValueLayout.JAVA_BYTE, pos++)) & 0xff;
    }

    private TarFormatException eof() {
        return new TarFormatException(h.name, "archive ends inside the entry's data (" + remaining + " of " + entrySizeTotal + " bytes missing)");
    }

    /** Skips the padding after an entry's data; false when the input ends before any of it (no padding at all). */
    private boolean skipPadding() {
        long left = padding;
        padding = 0;
        while (left > 0) {
            if (pos == lim && !fill()) {
                if (left == entryPadding()) return false;
                throw new TarFormatException(h.name, "archive ends inside the padding after the entry's data");
            }
            int k = (int) Math.min(left, lim - pos);
            pos += k;
            left -= k;
        }
        return true;
    }

    private long entryPadding() {
        return (Ustar.BLOCK - entrySizeTotal % Ustar.BLOCK) % Ustar.BLOCK;
    }

    private boolean readBlock() {
        int got = 0;
        while (got < Ustar.BLOCK) {
            if (pos == lim && !fill()) {
                if (got == 0) return false;
                // no entry to name: say where the stream broke off instead
                throw new TarFormatException("", !started
                        ? "the input ends after " + got + " bytes, inside the first 512-byte header"
                        : "archive ends inside the header after entry \"" + h.name + "\" (" + got + " of 512 bytes)");
            }
            int k = Math.min(Ustar.BLOCK - got, lim - pos);
            copyOut(block.bytes(), got, k);
            pos += k;
            got += k;
        }
        started = true;
        return true;
    }

    private byte[] readFully(String what, int size) {
        byte[] out = new byte[size];
        int got = 0;
        while (got < size) {
            if (pos == lim && !fill()) throw new TarFormatException(what, "archive ends inside an extended header");
            int k = Math.min(size - got, lim - pos);
            copyOut(out, got, k);
            pos += k;
            got += k;
        }
        skipOrFail(what, (Ustar.BLOCK - size % Ustar.BLOCK) % Ustar.BLOCK);
        return out;
    }

    private void skipOrFail(String what, long n) {
        long left = n;
        while (left > 0) {
            if (pos == lim && !fill()) throw new TarFormatException(what, "archive ends early");
            int k = (int) Math.min(left, lim - pos);
            pos += k;
            left -= k;
        }
    }

    /** Reads the rest of the input so that a writer on the other end of a pipe is not cut off. */
    private void drain() {
        pos = lim = 0;
        if (channel != null) return; // a file: nobody is waiting on the other end
        try {
            while (in.read(buf) >= 0) {
                // discard
            }
        } catch (IOException e) {
            // the archive itself is complete; a failure after its end does not matter
        }
    }

    private boolean fill() {
        try {
            int n;
            if (channel != null) {
                nbuf.clear();
                n = channel.read(nbuf);
            } else {
                n = in.read(buf, 0, buf.length);
            }
            if (n < 0) return false;
            pos = 0;
            lim = n;
            return n > 0 || fill();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long number(String what, int off, int len, String field) {
        try {
            return block.parseNumber(off, len);
        } catch (IllegalArgumentException e) {
            throw new TarFormatException(what, "bad " + field + " field: " + e.getMessage());
        }
    }




}
