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

    /** xattr names of an fd ({@code name} null) or of a name under a directory fd; empty when the fs has none. */
    public List<String> list(int fd, String name) {
        long r;
        while (true) {
            r = Libc.listxattr(s.st, fd, name == null ? null : s.name(s.p1, Sys.procPath(fd, name)), s.big);
            if (r >= 0) break;
            if (r == -ERANGE) {
                s.big = s.arena.allocate(s.big.byteSize() * 4, 8);
                continue;
            }
            if (r == -EOPNOTSUPP) return List.of();
            throw new SyscallException(name == null ? "flistxattr" : "llistxattr", name == null ? "fd " + fd : Sys.procPath(fd, name), (int) -r);
        }
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
        while (true) {
            long r = Libc.getxattr(s.st, fd, name == null ? null : s.name(s.p1, Sys.procPath(fd, name)), s.name(s.p2, xname), s.big);
            if (r >= 0) return s.big.asSlice(0, r).toArray(JAVA_BYTE);
            if (r == -ENODATA) return null;
            if (r == -ERANGE) {
                s.big = s.arena.allocate(s.big.byteSize() * 4, 8);
                continue;
            }
            throw new SyscallException(name == null ? "fgetxattr" : "lgetxattr", xname, (int) -r);
        }
    }
}
