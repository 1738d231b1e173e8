package dev.strata.kit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * One id's reference count for {@link RefCounts}: a 16-byte file, a count word and a magic number, mapped shared, so
 * that every process that maps it changes the same word in memory, and a kill leaves it in the file (a tmpfs, whose
 * pages outlive the process). The word is the count in its low 32 bits, plus BUSY while a lock holder mounts or
 * unmounts, or DEAD once the id is forgotten (its file is about to go, and a new one may take its name).
 *
 * <p>A count nobody maps is kept without data, as the file's size ({@link #SPARSE} + the count): setting it is one
 * ftruncate, which on a tmpfs allocates no page, where writing a record allocates, zeroes and charges one. Mapping
 * such a file, or reading it with {@link #prepare}, turns it into a record first. A file in the old format (the count
 * as text) is converted when it is first opened, under the id's lock.
 */
final class CountFile {
    private static final long BUSY = 1L << 32, DEAD = 1L << 33, FLAGS = BUSY | DEAD;
    /** Set, under the lock, by the first process that maps the file: until then nobody changes it without the lock. */
    private static final long MAPPED = 1L << 34;
    private static final long MAGIC = 0x3130544e43525453L; // "STRCNT01", little-endian
    static final int SIZE = 16;
    /** A file of {@code SPARSE + n} bytes and no data holds the count n of an id nobody maps. */
    static final long SPARSE = 4096;
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

    private final Arena arena;
    private final MemorySegment seg;
    private final boolean temporary;
    /** What get needs about the layer (null: unknown, no path without the lock). Set once, under the lock. */
    RefCounts.Layer layer;
    /** Whether this instance has checked the count against the mount table; until then it is not trusted. */
    volatile boolean checked;

    private CountFile(Arena arena, MemorySegment seg, boolean temporary) {
        this.arena = arena;
        this.seg = seg;
        this.temporary = temporary;
    }

    /** Opens and maps the id's count file, making it (at 0) when missing. Under the id's lock. */
    static CountFile open(Path file, boolean temporary) {
        return map(file, LockFiles.openOrCreate(file), temporary);
    }

    /** Maps the id's count file for one use, or null when there is none. Under the id's lock. */
    static CountFile openExisting(Path file) {
        int fd = LockFiles.openExisting(file);
        return fd == LockFiles.MISSING ? null : map(file, fd, true);
    }

    /** Maps an open count file (and closes the descriptor): open, pread, mmap, close; a new file one pwrite more. */
    private static CountFile map(Path file, int fd, boolean temporary) {
        try {
            prepare(fd, file);
            // A count this instance keeps is unmapped when it is dropped and collected: no handshake with the threads
            // that may be reading it without a lock. One used once is unmapped at once.
            Arena arena = temporary ? Arena.ofConfined() : Arena.ofAuto();
            CountFile c = new CountFile(arena, LockFiles.mapShared(fd, SIZE, arena, file), temporary);
            long w = c.word();
            if (dead(w)) c.set(0); // forgotten by a process killed before it removed the file
            else while (!WORD.compareAndSet(c.seg, 0L, w, w | MAPPED)) w = c.word();
            return c;
        } finally {
            LockFiles.close(fd);
        }
    }

    /** The word of an open count file, which is made (at 0) or converted from the old text format first. Under the lock. */
    static long prepare(int fd, Path file) {
        byte[] b = new byte[32];
        int len = LockFiles.pread(fd, b, file.toString());
        long w = len == b.length ? sparse(LockFiles.size(fd, file)) : parse(b, len); // no record or text is that long
        if (!isRecord(b, len)) write(fd, w, len, file);
        return w;
    }

    /** The count a file of {@code size} bytes holds, when it is a count kept as the size (else 0: nothing readable). */
    static long sparse(long size) {
        return size > SPARSE ? Math.min(size - SPARSE, Integer.MAX_VALUE) : 0;
    }

    /** The word of {@code len} bytes read from a count file: a record's, or an empty file's (0), or an old text count. */
    static long parse(byte[] b, int len) {
        if (isRecord(b, len)) return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return len == SIZE ? 0 : textCount(b, len); // new, or a count written as text by an older Strata
    }

    static boolean isRecord(byte[] b, int len) {
        return len == SIZE && ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(8) == MAGIC;
    }

    /**
     * Writes a whole record (the word and the magic) over a file that held {@code len} bytes, then cuts it to the
     * record: a kill in between leaves the old size, which says the same count when it was kept as the size. Under the lock.
     */
    static void write(int fd, long w, int len, Path file) {
        byte[] b = new byte[SIZE];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, w).putLong(8, MAGIC);
        LockFiles.pwrite(fd, b, file.toString());
        if (len > SIZE) LockFiles.truncate(fd, SIZE, file);
    }

    /**
     * Writes the word of a count file nobody has mapped ({@link #mappedBySomeone}), under the lock: nobody else can
     * change it meanwhile. A pread and a pwrite cost less than mapping a count that is used once or twice.
     */
    static void write(int fd, long w, Path file) {
        byte[] b = new byte[8];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, w);
        LockFiles.pwrite(fd, b, file.toString());
    }

    /** The word of a forgotten count. */
    static final long DEAD_WORD = DEAD;

    static boolean mappedBySomeone(long w) {
        return (w & MAPPED) != 0;
    }

    static long busy(long w) {
        return (w & ~FLAGS) | BUSY;
    }

    /** The old format: the count in decimal, padded with spaces or zeros; anything else counts 0. */
    private static long textCount(byte[] b, int len) {
        long n = 0;
        boolean any = false;
        for (int i = 0; i < len; i++) {
            byte c = b[i];
            if (c >= '0' && c <= '9' && n < Integer.MAX_VALUE) {
                n = n * 10 + (c - '0');
                any = true;
            } else if (c != ' ' && c != '\n') {
                return 0;
            }
        }
        return any ? Math.min(n, Integer.MAX_VALUE) : 0;
    }

    static int count(long w) {
        return (int) (w & 0x7fff_ffffL);
    }

    static boolean dead(long w) {
        return (w & DEAD) != 0;
    }

    static boolean flagged(long w) {
        return (w & FLAGS) != 0;
    }

    long word() {
        return (long) WORD.getVolatile(seg, 0L);
    }

    /** Under the lock: whether the count must be checked against the mount table first. */
    boolean suspect(long w) {
        return !checked || (w & BUSY) != 0;
    }

    boolean needsMount() {
        return layer == null || layer.needsMount();
    }

    /** Marks a mount or unmount in progress (sends callers without the lock to it); false when the word changed. */
    boolean setBusy(long w) {
        return WORD.compareAndSet(seg, 0L, w, (w & ~FLAGS) | BUSY);
    }

    /** Sets the count (clearing BUSY). Under the lock, with BUSY set, so no caller without the lock races it. */
    void set(long n) {
        WORD.setVolatile(seg, 0L, (n & 0x7fff_ffffL) | MAPPED);
    }

    /**
     * Adds {@code delta} when the count is trusted, not busy or dead, and at least {@code min}; false when it was
     * not (or the mapping is gone: a cleanup ran meanwhile), and the caller must take the lock.
     */
    boolean tryAdd(int min, int delta) {
        if (!checked) return false;
        try {
            while (true) {
                long w = word();
                if ((w & FLAGS) != 0 || count(w) < min) return false;
                if (WORD.compareAndSet(seg, 0L, w, w + delta)) return true;
            }
        } catch (IllegalStateException closed) {
            return false;
        }
    }

    /** Whether the count is trusted and 0 (a put with nothing to drop). */
    boolean isZero() {
        try {
            long w = word();
            return checked && !flagged(w) && count(w) == 0;
        } catch (IllegalStateException closed) {
            return false;
        }
    }

    /** Whether the file is still the id's (not forgotten) and mapped. */
    boolean alive() {
        try {
            return !dead(word());
        } catch (IllegalStateException closed) {
            return false;
        }
    }

    /** Marks the word dead: whoever has it mapped finds it so and opens the id's file anew. */
    void kill() {
        WORD.setVolatile(seg, 0L, DEAD);
    }

    /** Unmaps a count mapped for one use; a kept one is unmapped once nobody references it. */
    void close() {
        if (temporary) arena.close();
    }
}
