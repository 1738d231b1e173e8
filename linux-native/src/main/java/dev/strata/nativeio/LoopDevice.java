package dev.strata.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A loop device attached to a file, through ioctls: LOOP_CTL_GET_FREE then LOOP_CONFIGURE, retried when another
 * process takes the free device between the two calls. Where no udev made {@code /dev/loopN}, the node is made.
 *
 * <p>{@code struct loop_config} is 304 bytes: fd (u32) at 0, block_size at 4, {@code loop_info64} at 8 (its
 * lo_flags at 8+52, lo_file_name[64] at 8+56), reserved at 240.
 */
public final class LoopDevice implements AutoCloseable {
    public static final long LOOP_CLR_FD = 0x4C01, LOOP_CONFIGURE = 0x4C0A,
            LOOP_CTL_GET_FREE = 0x4C82;
    public static final int LO_FLAGS_READ_ONLY = 1, LO_FLAGS_AUTOCLEAR = 4, LO_FLAGS_DIRECT_IO = 16;
    private static final int LOOP_MAJOR = 7;

    private final int number;
    private final Path device;
    private final Path backingFile;
    private final boolean autoclear;
    private Fd fd;

    private LoopDevice(int number, Path device, Path backingFile, boolean autoclear, Fd fd) {
        this.number = number;
        this.device = device;
        this.backingFile = backingFile;
        this.autoclear = autoclear;
        this.fd = fd;
    }

    /**
     * Attaches {@code file}. With {@code autoclear} the kernel detaches the device once nothing holds it open
     * (after {@link #close()} and the last unmount), so a crash cannot leak it.
     */
    public static LoopDevice attach(Path file, boolean readOnly, boolean autoclear) {
        int flags = (readOnly ? LO_FLAGS_READ_ONLY : 0) | (autoclear ? LO_FLAGS_AUTOCLEAR : 0);
        try (Fd backing = PosixFiles.open(file, readOnly ? PosixFiles.O_RDONLY : PosixFiles.O_RDWR, 0)) {
            SyscallException last = null;
            for (int attempt = 0; attempt < 32; attempt++) {
                int n;
                try (Fd ctl = PosixFiles.open(Path.of("/dev/loop-control"), PosixFiles.O_RDWR, 0)) {
                    n = Ioctl.call(ctl, LOOP_CTL_GET_FREE, 0L, "LOOP_CTL_GET_FREE");
                }
                Path dev = ensureNode(n);
                Fd loop = PosixFiles.open(dev, readOnly ? PosixFiles.O_RDONLY : PosixFiles.O_RDWR, 0);
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment cfg = a.allocate(304, 8);
                    cfg.set(JAVA_INT, 0, backing.fd());
                    cfg.set(JAVA_INT, 8 + 52, flags);
                    byte[] name = file.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8);
                    MemorySegment.copy(name, 0, cfg, JAVA_BYTE, 8 + 56, Math.min(name.length, 63));
                    Ioctl.call(loop, LOOP_CONFIGURE, cfg, "LOOP_CONFIGURE");
                    return new LoopDevice(n, dev, file.toAbsolutePath(), autoclear, loop);
                } catch (SyscallException e) {
                    loop.close();
                    if (!e.is(Errno.EBUSY)) throw e;
                    last = e; // someone took loopN between GET_FREE and CONFIGURE: ask again
                }
            }
            throw last;
        }
    }

    private static Path ensureNode(int n) {
        Path dev = Path.of("/dev/loop" + n);
        if (!Files.exists(dev)) {
            try {
                PosixFiles.mknod(dev, Stat.S_IFBLK | 0660, PosixFiles.makedev(LOOP_MAJOR, n));
            } catch (SyscallException e) {
                if (!e.is(Errno.EEXIST)) throw e;
            }
        }
        return dev;
    }

    /** The loop device a file is attached to, if any (from /sys/block/loop*&#47;loop/backing_file). */
    public static Optional<Integer> findAttached(Path file) {
        String want = file.toAbsolutePath().normalize().toString();
        try (var dirs = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
            for (Path d : dirs) {
                Path bf = d.resolve("loop/backing_file");
                if (Files.exists(bf) && Files.readString(bf).strip().equals(want)) {
                    return Optional.of(Integer.parseInt(d.getFileName().toString().substring(4)));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    public int number() {
        return number;
    }

    public Path device() {
        return device;
    }

    public Path backingFile() {
        return backingFile;
    }

    public long devNumber() {
        return PosixFiles.makedev(LOOP_MAJOR, number);
    }

    /** Detaches now (LOOP_CLR_FD). With autoclear that happens by itself once the device is unused. */
    public void detach() {
        try {
            Ioctl.call(fd, LOOP_CLR_FD, 0L, "LOOP_CLR_FD");
        } catch (SyscallException e) {
            if (!e.is(Errno.ENXIO)) throw e; // already detached
        }
    }

    /** Closes our descriptor. Without autoclear the device stays attached until {@link #detach()}. */
    @Override
    public void close() {
        if (fd != null) {
            fd.close();
            fd = null;
        }
    }

    @Override
    public String toString() {
        return device + " (" + backingFile + (autoclear ? ", autoclear" : "") + ")";
    }
}
