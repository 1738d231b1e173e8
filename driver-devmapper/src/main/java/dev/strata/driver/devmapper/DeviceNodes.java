package dev.strata.driver.devmapper;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code /dev/mapper/<name>} nodes. udev makes them where it runs; in a container or a bare initramfs nothing does,
 * so Strata makes the block node itself from the dev_t that DM_DEV_CREATE returned, and fixes one that points at
 * another device (dm minors are reused once a device is gone).
 */
final class DeviceNodes {
    static final Path DIR = Path.of("/dev/mapper");

    private DeviceNodes() {
    }

    static Path path(String name) {
        return DIR.resolve(name);
    }

    /** Makes sure {@code /dev/mapper/name} reaches device {@code dev}. */
    static Path ensure(String name, long dev) {
        Path p = path(name);
        try {
            Stat st = PosixFiles.lstat(p);
            if (st.isSymlink()) {
                // udev's link to ../dm-N: fine if it leads to our device
                try {
                    Stat target = PosixFiles.statx(null, p.toString(), 0);
                    if (target.type() == Stat.S_IFBLK && target.rdev() == dev) return p;
                } catch (SyscallException ignored) {
                    // dangling: replace it
                }
            } else if (st.type() == Stat.S_IFBLK && st.rdev() == dev) {
                return p;
            }
            Files.deleteIfExists(p);
        } catch (SyscallException e) {
            if (!e.is(Errno.ENOENT)) throw e;
        } catch (IOException e) {
            throw new SyscallException("unlink", p.toString(), Errno.EIO, e.toString());
        }
        try {
            Files.createDirectories(DIR);
        } catch (IOException e) {
            throw new SyscallException("mkdir", DIR.toString(), Errno.EIO, e.toString());
        }
        try {
            PosixFiles.mknod(p, Stat.S_IFBLK | 0600, dev);
        } catch (SyscallException e) {
            if (!e.is(Errno.EEXIST)) throw e; // udev made it meanwhile
        }
        return p;
    }

    /** Removes a node left for a device that no longer exists. */
    static void remove(String name) {
        try {
            Files.deleteIfExists(path(name));
        } catch (IOException ignored) {
            // udev may have removed it meanwhile; a stale node is fixed by ensure()
        }
    }

    /** Node names under /dev/mapper starting with {@code prefix}. */
    static List<String> list(String prefix) {
        try (var s = Files.list(DIR)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
