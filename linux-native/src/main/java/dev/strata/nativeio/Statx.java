package dev.strata.nativeio;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** Where {@code struct statx} keeps its fields (the same on every architecture), read in one place. */
public final class Statx {
    public static final int SIZE = 256;
    public static final long NLINK = 16, UID = 20, GID = 24, MODE = 28, INO = 32, BYTES = 40, BLOCKS = 48, ATIME = 64,
            CTIME = 96, MTIME = 112, RDEV_MAJOR = 128, RDEV_MINOR = 132, DEV_MAJOR = 136, DEV_MINOR = 140;

    private Statx() {
    }

    public static int mode(MemorySegment b) {
        return Short.toUnsignedInt(b.get(JAVA_SHORT, MODE));
    }

    /** A statx_timestamp at {@code off} in ns since the epoch. */
    public static long nanos(MemorySegment b, long off) {
        return b.get(JAVA_LONG, off) * 1_000_000_000L + Integer.toUnsignedLong(b.get(JAVA_INT, off + 8));
    }

    static Stat toStat(MemorySegment b) {
        return new Stat(mode(b), b.get(JAVA_INT, UID), b.get(JAVA_INT, GID), Integer.toUnsignedLong(b.get(JAVA_INT, NLINK)),
                b.get(JAVA_LONG, INO), b.get(JAVA_LONG, BYTES), b.get(JAVA_LONG, BLOCKS),
                b.get(JAVA_INT, DEV_MAJOR), b.get(JAVA_INT, DEV_MINOR), b.get(JAVA_INT, RDEV_MAJOR), b.get(JAVA_INT, RDEV_MINOR),
                nanos(b, ATIME), nanos(b, MTIME), nanos(b, CTIME));
    }
}
