package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * getdents64(2): a directory's entries with the type the filesystem stores in them ({@code d_type}). The JDK's
 * directory streams drop that field, and it is what overlay needs from its backing filesystem: xfs made with
 * {@code ftype=0} reports every entry as {@link #DT_UNKNOWN}.
 *
 * <p>{@code struct linux_dirent64}: d_ino u64 at 0, d_off s64 at 8, d_reclen u16 at 16, d_type u8 at 18, d_name
 * NUL-terminated from 19. The layout is the same on every architecture.
 */
public final class DirEntries implements FileConstants {

    /** One entry ({@code .} and {@code ..} are left out). */
    public record Entry(String name, long ino, int type) {
    }

    private DirEntries() {
    }

    /** Every entry of the directory {@code dir}. */
    public static List<Entry> list(Path dir) {
        try (Fd fd = PosixFiles.open(dir, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0)) {
            return list(fd);
        }
    }

    /** Every entry of the open directory {@code dir}, read from its current offset. */
    public static List<Entry> list(Fd dir) {
        List<Entry> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment buf = a.allocate(32768, 8);
            while (true) {
                long n = Libc.getdents64(st, dir.fd(), buf);
                if (n < 0) throw new SyscallException("getdents64", dir.what(), (int) -n);
                if (n == 0) return out;
                for (long off = 0; off < n; ) {
                    long ino = buf.get(JAVA_LONG, off);
                    int reclen = Short.toUnsignedInt(buf.get(JAVA_SHORT, off + 16));
                    int type = Byte.toUnsignedInt(buf.get(JAVA_BYTE, off + 18));
                    String name = cString(buf, off + 19, reclen - 19);
                    if (!name.equals(".") && !name.equals("..")) out.add(new Entry(name, ino, type));
                    off += reclen;
                }
            }
        }
    }

    private static String cString(MemorySegment buf, long off, int max) {
        int len = 0;
        while (len < max && buf.get(JAVA_BYTE, off + len) != 0) len++;
        return new String(buf.asSlice(off, len).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }
}
