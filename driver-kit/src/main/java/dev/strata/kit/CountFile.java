package dev.strata.kit;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One id's reference count for {@link RefCounts}: a 16-byte file, a count word and a magic number, mapped shared, so
 * that every process that maps it changes the same word in memory, and a kill leaves it in the file (a tmpfs, whose
 * pages outlive the process). The word is the count in its low 32 bits, plus BUSY while a lock holder mounts or
 * unmounts, or DEAD once the id is forgotten (its file is about to go, and a new one may take its name).
 *
 * <p>A file in the old format (the count as text) is converted when it is first opened, under the id's lock.
 */
final class CountFile {
    private static final long BUSY = 1L << 32, DEAD = 1L << 33, FLAGS = BUSY | DEAD;
    private static final long MAGIC = 0x3130544e43525453L; // "STRCNT01", little-endian
    private static final int SIZE = 16;
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
        try {
            return map(file, true, temporary);
        } catch (NoSuchFileException e) {
            try {
                Files.createDirectories(file.getParent());
                return map(file, true, temporary);
            } catch (IOException again) {
                throw new StorageException("open", file.toString(), again.toString(), again);
            }
        } catch (IOException e) {
            throw new StorageException("open", file.toString(), e.toString(), e);
        }
    }

    /** Maps the id's count file for one use, or null when there is none. Under the id's lock. */
    static CountFile openExisting(Path file) {
        try {
            return map(file, false, true);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException("open", file.toString(), e.toString(), e);
        }
    }

    private static CountFile map(Path file, boolean create, boolean temporary) throws IOException {
        try (FileChannel ch = create
                ? FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
            long size = ch.size();
            if (size == SIZE) {
                ch.read(b, 0);
                b.flip();
            }
            if (b.remaining() != SIZE || b.getLong(8) != MAGIC) { // new, or a count written as text by an older Strata
                long n = size == SIZE ? 0 : textCount(ch);
                b.clear();
                b.putLong(n).putLong(MAGIC).flip();
                ch.truncate(0);
                ch.write(b, 0);
            }
            Arena arena = temporary ? Arena.ofConfined() : Arena.ofShared();
            try {
                CountFile c = new CountFile(arena, ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE, arena), temporary);
                if (dead(c.word())) c.set(0); // forgotten by a process killed before it removed the file
                return c;
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    /** The old format: the count in decimal, padded with spaces or zeros; anything else counts 0. */
    private static long textCount(FileChannel ch) throws IOException {
        ByteBuffer t = ByteBuffer.allocate(32);
        ch.read(t, 0);
        t.flip();
        long n = 0;
        boolean any = false;
        while (t.hasRemaining()) {
            byte c = t.get();
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

    /** Sets the count (clearing the flags). Under the lock, with BUSY set, so no caller without the lock races it. */
    void set(long n) {
        WORD.setVolatile(seg, 0L, n & ~FLAGS);
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
            return checked && word() == 0;
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

    void close() {
        try {
            arena.close();
        } catch (IllegalStateException already) {
            // closed by a concurrent cleanup
        }
    }

    void closeIfTemporary() {
        if (temporary) close();
    }
}
