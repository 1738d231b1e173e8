package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Extended attributes as raw bytes ({@code security.capability} is binary), on paths without following a final
 * symlink (l*xattr) or on open descriptors (f*xattr).
 */
public final class Xattrs {
    public static final int XATTR_CREATE = 1, XATTR_REPLACE = 2;

    private Xattrs() {
    }

    /** The value, or null when the attribute is absent (ENODATA). */
    public static byte[] get(Path path, String name) {
        return get(path.toString(), name, -1);
    }

    public static byte[] get(Fd fd, String name) {
        return get(fd.what(), name, fd.fd());
    }

    private static byte[] get(String path, String name, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment n = a.allocateFrom(name);
            MemorySegment p = fd < 0 ? a.allocateFrom(path) : MemorySegment.NULL;
            int size = 256;
            while (true) {
                MemorySegment buf = a.allocate(size);
                long r = Libc.getxattr(st, fd, fd < 0 ? p : null, n, buf);
                if (r >= 0) return buf.asSlice(0, r).toArray(JAVA_BYTE);
                int e = (int) -r;
                if (e == Errno.ENODATA) return null;
                if (e == Errno.ERANGE && size < (1 << 20)) {
                    size *= 16;
                    continue;
                }
                throw new SyscallException(fd < 0 ? "lgetxattr" : "fgetxattr", path + " " + name, e);
            }
        }
    }

    public static void set(Path path, String name, byte[] value) {
        set(path.toString(), name, value, -1);
    }

    public static void set(Fd fd, String name, byte[] value) {
        set(fd.what(), name, value, fd.fd());
    }

    private static void set(String path, String name, byte[] value, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment n = a.allocateFrom(name);
            MemorySegment v = value.length == 0 ? a.allocate(1) : a.allocateFrom(JAVA_BYTE, value);
            int r = Libc.setxattr(st, fd, fd < 0 ? a.allocateFrom(path) : null, n, v, value.length, 0);
            if (r < 0) throw new SyscallException(fd < 0 ? "lsetxattr" : "fsetxattr", path + " " + name, -r);
        }
    }

    /** Attribute names, in the order the filesystem lists them. */
    public static List<String> list(Path path) {
        return list(path.toString(), -1);
    }

    public static List<String> list(Fd fd) {
        return list(fd.what(), fd.fd());
    }

    private static List<String> list(String path, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment p = fd < 0 ? a.allocateFrom(path) : MemorySegment.NULL;
            int size = 1024;
            while (true) {
                MemorySegment buf = a.allocate(size);
                long r = Libc.listxattr(st, fd, fd < 0 ? p : null, buf);
                if (r >= 0) return split(buf.asSlice(0, r).toArray(JAVA_BYTE));
                int e = (int) -r;
                if (e == Errno.ERANGE && size < (1 << 20)) {
                    size *= 16;
                    continue;
                }
                if (e == Errno.EOPNOTSUPP) return List.of();
                throw new SyscallException(fd < 0 ? "llistxattr" : "flistxattr", path, e);
            }
        }
    }

    /** Removes an attribute; an absent one is not an error. */
    public static void remove(Path path, String name) {
        remove(path.toString(), name, -1);
    }

    public static void remove(Fd fd, String name) {
        remove(fd.what(), name, fd.fd());
    }

    private static void remove(String path, String name, int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment n = a.allocateFrom(name);
            int r = Libc.removexattr(st, fd, fd < 0 ? a.allocateFrom(path) : null, n);
            if (r < 0 && r != -Errno.ENODATA) {
                throw new SyscallException(fd < 0 ? "lremovexattr" : "fremovexattr", path + " " + name, -r);
            }
        }
    }

    private static List<String> split(byte[] names) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < names.length; i++) {
            if (names[i] == 0) {
                if (i > start) out.add(new String(names, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }
}
