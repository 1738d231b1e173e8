package dev.strata.nativeio.fast;

import dev.strata.nativeio.Libc;
import dev.strata.nativeio.SyscallException;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.strata.nativeio.fast.Sys.ENODATA;
import static dev.strata.nativeio.fast.Sys.EOPNOTSUPP;
import static dev.strata.nativeio.fast.Sys.ERANGE;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Extended attributes for {@link Sys}, byte-exact: f* calls on an open fd, l* calls on
 * {@code /proc/self/fd/<dirfd>/<name>} (fd-relative; the final name is not followed). Uses its Sys's scratch memory,
 * so it is confined to the same thread.
 */
public final class XattrCalls {
    private final Sys s;

    XattrCalls(Sys s) {
        this.s = s;
    }

    public int fset(int fd, String xname, byte[] value) {
        return Libc.setxattr(s.st, fd, null, s.name(s.p2, xname), valueSegment(value), value.length, 0);
    }

    public int lsetAt(int dirfd, String name, String xname, byte[] value) {
        return Libc.setxattr(s.st, -1, s.name(s.p1, Sys.procPath(dirfd, name)), s.name(s.p2, xname), valueSegment(value), value.length, 0);
    }

    private MemorySegment valueSegment(byte[] value) {
        if (value.length > 0 && s.big.byteSize() < value.length) s.big = s.arena.allocate(value.length, 8);
        MemorySegment.copy(value, 0, s.big, JAVA_BYTE, 0, value.length);
        return s.big;
    }

    /**
     * getxattr's first try's buffer size. The kernel allocates a buffer of the size passed and zeroes it, so passing
     * the whole scratch segment (grown by the largest answer so far) could cost a page-allocator round trip per call;
     * most values are short. A longer one (ERANGE) is asked for again at the size the kernel reports.
     */
    private static final int FIRST_TRY = 1024;

    /**
     * xattr names of an fd ({@code name} null) or of a name under a directory fd; empty when the fs has none. The size
     * is asked first: most files have no xattrs, and a call with size 0 makes the kernel allocate and copy nothing.
     */
    public List<String> list(int fd, String name) {
        MemorySegment path = name == null ? null : s.name(s.p1, Sys.procPath(fd, name));
        long size = Libc.listxattr(s.st, fd, path, MemorySegment.NULL), r = size;
        while (size > 0 && (r = Libc.listxattr(s.st, fd, path, scratch(size))) == -ERANGE) {
            size = Libc.listxattr(s.st, fd, path, MemorySegment.NULL); // more names since: ask again
        }
        if (size <= 0) r = size;
        if (r == -EOPNOTSUPP) return List.of();
        if (r < 0) throw new SyscallException(name == null ? "flistxattr" : "llistxattr", name == null ? "fd " + fd : Sys.procPath(fd, name), (int) -r);
        if (r == 0) return List.of();
        byte[] b = s.big.asSlice(0, r).toArray(JAVA_BYTE);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == 0) {
                if (i > start) out.add(new String(b, start, i - start, StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        return out;
    }

    /** An xattr's value, or null when it is absent. */
    public byte[] get(int fd, String name, String xname) {
        MemorySegment path = name == null ? null : s.name(s.p1, Sys.procPath(fd, name));
        MemorySegment key = s.name(s.p2, xname);
        long r = Libc.getxattr(s.st, fd, path, key, s.big.asSlice(0, FIRST_TRY));
        while (r == -ERANGE) {
            long need = Libc.getxattr(s.st, fd, path, key, MemorySegment.NULL);
            if (need >= 0) r = Libc.getxattr(s.st, fd, path, key, scratch(need));
            else r = need;
        }
        if (r >= 0) return s.big.asSlice(0, r).toArray(JAVA_BYTE);
        if (r == -ENODATA) return null;
        throw new SyscallException(name == null ? "fgetxattr" : "lgetxattr", xname, (int) -r);
    }

    /** The scratch segment, grown to at least {@code size} bytes, sliced to exactly that. */
    private MemorySegment scratch(long size) {
        if (s.big.byteSize() < size) s.big = s.arena.allocate(size, 8);
        return s.big.asSlice(0, size);
    }
}
