package dev.strata.archive.tar;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * One tar entry's metadata, after PAX and GNU extensions have been folded in. Names and link targets are raw bytes
 * held as ISO-8859-1 strings (one char per byte), because Linux file names are bytes, not text: that keeps them
 * byte-exact through the reader, the writer and the *at calls, whatever the JVM's locale.
 *
 * <p>Mutable on purpose: the reader and writer reuse one instance per stream on their hot paths.
 */
public final class TarHeader {
    public static final byte REGULAR = '0', REGULAR_OLD = 0, HARDLINK = '1', SYMLINK = '2', CHAR = '3', BLOCK = '4',
            DIRECTORY = '5', FIFO = '6', CONTIGUOUS = '7', PAX_LOCAL = 'x', PAX_GLOBAL = 'g', GNU_LONGNAME = 'L',
            GNU_LONGLINK = 'K', GNU_SPARSE = 'S';

    /** Raw name bytes as ISO-8859-1; directories may end in '/'. */
    public String name = "";
    /** Raw link target (hardlink: a name in the archive; symlink: the target) as ISO-8859-1. */
    public String linkName = "";
    public byte type = REGULAR;
    /** Permission bits including setuid, setgid and sticky (07777). */
    public int mode;
    public long uid, gid;
    /** Logical size of a regular file (the real size of a sparse one); 0 for other types. */
    public long size;
    public long mtimeNanos;
    public int devMajor, devMinor;
    /** xattrs by name, values byte-exact; sorted so that writing is deterministic. */
    public final Map<String, byte[]> xattrs = new TreeMap<>();
    /** Data regions of a sparse file as (offset, length) pairs, or null when the file is not sparse. */
    public long[] sparse;

    public boolean isRegular() {
        return type == REGULAR || type == REGULAR_OLD || type == CONTIGUOUS;
    }

    public boolean isDirectory() {
        return type == DIRECTORY;
    }

    /** Bytes stored in the archive for this entry's data (the data regions of a sparse file only). */
    public long storedSize() {
        if (!isRegular()) return 0;
        if (sparse == null) return size;
        long n = 0;
        for (int i = 1; i < sparse.length; i += 2) n += sparse[i];
        return n;
    }

    public void reset() {
        name = "";
        linkName = "";
        type = REGULAR;
        mode = 0;
        uid = gid = 0;
        size = 0;
        mtimeNanos = 0;
        devMajor = devMinor = 0;
        xattrs.clear();
        sparse = null;
    }

    /** The name decoded as UTF-8, for messages and Change paths. */
    public String displayName() {
        return utf8(name);
    }

    /** A raw (ISO-8859-1) name as text (UTF-8). */
    public static String utf8(String raw) {
        return new String(raw.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /** Text (UTF-8) as a raw name (ISO-8859-1). */
    public static String raw(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return (char) (type == 0 ? '0' : type) + " " + displayName() + (linkName.isEmpty() ? "" : " -> " + utf8(linkName));
    }
}
