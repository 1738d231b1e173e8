package dev.strata.archive.tar;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The 512-byte ustar header block: field offsets, octal and base-256 numbers, the checksum. Writing takes raw
 * field values and validates nothing, so that the hostile corpus can build any block it likes; {@link TarWriter}
 * decides what goes where.
 */
public final class Ustar {
    public static final int BLOCK = 512;
    static final int NAME = 0, NAME_LEN = 100, MODE = 100, UID = 108, GID = 116, SIZE = 124, MTIME = 136, CHKSUM = 148,
            TYPE = 156, LINK = 157, LINK_LEN = 100, MAGIC = 257, VERSION = 263, UNAME = 265, GNAME = 297, DEVMAJOR = 329,
            DEVMINOR = 337, PREFIX = 345, PREFIX_LEN = 155;
    /** Old GNU header fields (type 'S'). */
    static final int GNU_SPARSE = 386, GNU_ISEXTENDED = 482, GNU_REALSIZE = 483;

    private final byte[] b;

    /** A view of {@code block}, which must be {@link #BLOCK} bytes. */
    public Ustar(byte[] block) {
        if (block.length != BLOCK) throw new IllegalArgumentException("a tar header block is " + BLOCK + " bytes, not " + block.length);
        this.b = block;
    }

    public Ustar() {
        this(new byte[BLOCK]);
    }

    public byte[] bytes() {
        return b;
    }

    public Ustar clear() {
        Arrays.fill(b, (byte) 0);
        return this;
    }

    /** Puts ustar magic "ustar\0" and version "00". */
    public Ustar magic() {
        put(MAGIC, 6, "ustar");
        b[VERSION] = '0';
        b[VERSION + 1] = '0';
        return this;
    }

    public Ustar name(String raw) {
        return put(NAME, NAME_LEN, raw);
    }

    public Ustar prefix(String raw) {
        return put(PREFIX, PREFIX_LEN, raw);
    }

    public Ustar linkName(String raw) {
        return put(LINK, LINK_LEN, raw);
    }

    /** Like {@link #put} into a field known to be zero (after {@link #clear}): no fill. */
    @SuppressWarnings("deprecation")
    public Ustar putClear(int off, int len, String raw) {
        int n = Math.min(len, raw.length());
        if (n > 0) raw.getBytes(0, n, b, off);
        return this;
    }

    public Ustar type(byte t) {
        b[TYPE] = t;
        return this;
    }

    public Ustar mode(long v) {
        return number(MODE, 8, v);
    }

    public Ustar uid(long v) {
        return number(UID, 8, v);
    }

    public Ustar gid(long v) {
        return number(GID, 8, v);
    }

    public Ustar size(long v) {
        return number(SIZE, 12, v);
    }

    public Ustar mtime(long seconds) {
        return number(MTIME, 12, seconds);
    }

    public Ustar dev(int major, int minor) {
        number(DEVMAJOR, 8, major);
        return number(DEVMINOR, 8, minor);
    }

    /** Copies raw bytes of {@code s} (ISO-8859-1) into a field, truncated to its length. */
    @SuppressWarnings("deprecation")
    public Ustar put(int off, int len, String raw) {
        int n = Math.min(len, raw.length());
        raw.getBytes(0, n, b, off); // the low byte of each char: exactly our raw ISO-8859-1 names, without a charset
        Arrays.fill(b, off + n, off + len, (byte) 0);
        return this;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long LOW_BYTES = 0x00FF00FF00FF00FFL;

    /**
     * The sum of a block's 512 bytes, unsigned, eight at a time: each long's bytes are added pairwise into four 16-bit
     * lanes, which 64 longs cannot overflow (64 * 2 * 255). A byte loop cost ~180 ns a header, a tenth of that here.
     */
    static long byteSum(byte[] block) {
        long lanes = 0;
        for (int i = 0; i < BLOCK; i += 8) {
            long v = (long) LONGS.get(block, i);
            lanes += (v & LOW_BYTES) + ((v >>> 8) & LOW_BYTES);
        }
        return (lanes & 0xFFFF) + ((lanes >>> 16) & 0xFFFF) + ((lanes >>> 32) & 0xFFFF) + (lanes >>> 48);
    }

    /** Whether {@code v} fits the field as octal digits plus a terminating NUL. */
    public static boolean fitsOctal(long v, int len) {
        return v >= 0 && v < (1L << (3 * (len - 1)));
    }

    /** Octal with a NUL when it fits, else GNU base-256 (first byte 0x80; 0xff for negative numbers). */
    public Ustar number(int off, int len, long v) {
        if (fitsOctal(v, len)) {
            b[off + len - 1] = 0;
            long x = v;
            for (int i = len - 2; i >= 0; i--) {
                b[off + i] = (byte) ('0' + (x & 7));
                x >>>= 3;
            }
        } else {
            long x = v;
            for (int i = len - 1; i > 0; i--) {
                b[off + i] = (byte) x;
                x >>= 8;
            }
            b[off] = (byte) (v < 0 ? 0xff : 0x80);
        }
        return this;
    }

    /** Computes and stores the checksum; call last. */
    public Ustar checksum() {
        Arrays.fill(b, CHKSUM, CHKSUM + 8, (byte) ' ');
        number(CHKSUM, 7, byteSum(b));
        b[CHKSUM + 7] = ' ';
        return this;
    }

    // ---- reading ----

    private static final byte[] ZERO = new byte[BLOCK];

    public boolean isZero() {
        return java.util.Arrays.mismatch(b, ZERO) < 0;
    }

    /** Whether the stored checksum matches (unsigned, or signed as some old tars computed it). */
    public boolean checksumValid() {
        long stored;
        try {
            stored = parseNumber(CHKSUM, 8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        long unsigned = 8 * ' ' + byteSum(b);
        for (int i = CHKSUM; i < CHKSUM + 8; i++) unsigned -= b[i] & 0xff;
        if (stored == unsigned) return true;
        long signed = 8 * ' '; // some old tars summed signed bytes
        for (int i = 0; i < BLOCK; i++) if (i < CHKSUM || i >= CHKSUM + 8) signed += b[i];
        return stored == signed;
    }

    public boolean isUstar() {
        return b[MAGIC] == 'u' && b[MAGIC + 1] == 's' && b[MAGIC + 2] == 't' && b[MAGIC + 3] == 'a' && b[MAGIC + 4] == 'r';
    }

    /** GNU's "ustar  \0" magic: the prefix field holds atime/ctime/sparse data, not a name prefix. */
    public boolean isOldGnu() {
        return isUstar() && b[MAGIC + 5] == ' ' && b[VERSION] == ' ';
    }

    /** A NUL-terminated field as raw ISO-8859-1 bytes. */
    public String string(int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.ISO_8859_1);
    }

    public byte type() {
        return b[TYPE];
    }

    /**
     * An octal (space- or NUL-terminated, leading spaces allowed) or base-256 number field.
     *
     * @throws IllegalArgumentException on anything else
     */
    public long parseNumber(int off, int len) {
        int first = b[off] & 0xff;
        if (first == 0x80 || first == 0xff) {
            if (first == 0xff) throw new IllegalArgumentException("negative base-256 number");
            long v = 0;
            for (int i = 1; i < len; i++) {
                if ((v >>> 55) != 0) throw new IllegalArgumentException("base-256 number too large");
                v = (v << 8) | (b[off + i] & 0xff);
            }
            return v;
        }
        int i = off, end = off + len;
        while (i < end && b[i] == ' ') i++;
        long v = 0;
        boolean digits = false;
        for (; i < end; i++) {
            int c = b[i];
            if (c == 0 || c == ' ') break;
            if (c < '0' || c > '7') throw new IllegalArgumentException("bad octal digit 0x" + Integer.toHexString(c & 0xff));
            if ((v >>> 60) != 0) throw new IllegalArgumentException("octal number too large");
            v = (v << 3) | (c - '0');
            digits = true;
        }
        for (; i < end; i++) {
            if (b[i] != 0 && b[i] != ' ') throw new IllegalArgumentException("garbage after octal number");
        }
        return digits ? v : 0;
    }
}
