package dev.strata.driver.overlay;

import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.MountRoots;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the reference counts live: {@code <home>/.refs}, with a small tmpfs mounted on it. A count says how many
 * users hold a mount, so it has the lifetime of a mount: it must outlive the process that took it (the CLI runs one
 * process per command) and it means nothing after a reboot. tmpfs gives exactly that, as {@code /run} does for
 * containers/storage's mount counts, and spares the backing filesystem the journal traffic of a small file written
 * and flushed on every get and put (measured: most of what get and put cost over a bare mount on ext4).
 *
 * <p>The tmpfs is mounted on first use, under a file lock so two processes cannot stack two of them, checked on
 * every use (one statx), and unmounted by {@link #unmount} at cleanup. Where mounting is not allowed (rootless
 * without the privilege), the plain directory is used.
 */
final class RefsDir {
    private final Path dir;
    private final Path lockFile;
    private volatile boolean plain;

    RefsDir(Path home) {
        this.dir = home.resolve(Layout.REFS_DIR);
        this.lockFile = home.resolve(Layout.REFS_DIR + ".lock");
    }

    Path path() {
        return dir;
    }

    /** Makes sure the counts are on the tmpfs (mounting it if this is the first use since boot or cleanup). */
    void ensure() {
        if (plain || MountRoots.isMountRoot(dir)) return;
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            if (MountRoots.isMountRoot(dir)) return;
            Files.createDirectories(dir);
            try {
                Mounts.mount("strata-refs", dir, "tmpfs", Mounts.MS_NOSUID | Mounts.MS_NODEV | Mounts.MS_NOEXEC,
                        "size=4m,mode=0700");
            } catch (SyscallException e) {
                if (!e.is(Errno.EPERM) && !e.is(Errno.EACCES)) throw e;
                plain = true; // not allowed to mount here: keep the counts in the directory itself
                return;
            }
            // Not propagated to, nor from, the peers of a shared mount above (dockerd makes its data root rshared).
            Mounts.mount(null, dir, null, Mounts.MS_PRIVATE, null);
        } catch (IOException e) {
            throw new StorageException("mount", dir.toString(), e.toString(), e);
        }
    }

    /** Whether the counts are on a tmpfs (for status). */
    boolean onTmpfs() {
        return !plain && MountRoots.isMountRoot(dir);
    }

    /** Unmounts the tmpfs (the counts are gone with it); the next use mounts a fresh one. */
    void unmount() {
        if (MountRoots.isMountRoot(dir)) Mounts.unmountIfMounted(dir, Mounts.MNT_DETACH);
    }
}
