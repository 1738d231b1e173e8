package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * An open file descriptor. {@link #path()} gives the {@code /proc/self/fd/N} magic link, through which the JDK's
 * file API can reach exactly the file this descriptor names, without resolving a path again.
 */
public final class Fd implements AutoCloseable {
    private final int fd;
    private final String what;
    private boolean closed;

    public Fd(int fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    public int fd() {
        return fd;
    }

    /** What this descriptor was opened on, for error messages. */
    public String what() {
        return what;
    }

    public Path path() {
        return Path.of("/proc/self/fd/" + fd);
    }

    /** Reads up to {@code max} bytes; returns null at end of file. */
    public byte[] read(int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment buf = a.allocate(max);
            long n = Libc.read(st, fd, buf, max);
            if (n < 0) throw new SyscallException("read", what, (int) -n);
            if (n == 0) return null;
            return buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            int r = Libc.close(st, fd);
            if (r < 0 && r != -Errno.EINTR) throw new SyscallException("close", what, -r);
        }
    }

    @Override
    public String toString() {
        return "fd " + fd + " (" + what + ")";
    }
}
