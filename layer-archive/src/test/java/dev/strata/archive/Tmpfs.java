package dev.strata.archive;

import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tmpfs the test mounts itself (the VM's /tmp is on a slow ext4), unmounted and removed on close, with a check
 * that the mount is really gone.
 */
final class Tmpfs implements AutoCloseable {
    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    static Tmpfs mount(String size) {
        Assumptions.assumeTrue(Kernel.isRoot(), "mounting a tmpfs needs root");
        try {
            Path d = Files.createTempDirectory("strata-archive-");
            Mounts.mount("tmpfs", d, "tmpfs", Mounts.MS_NOSUID, "size=" + size + ",mode=0755");
            return new Tmpfs(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path path() {
        return dir;
    }

    Path dir(String name) {
        try {
            return Files.createDirectories(dir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            Mounts.unmount(dir, 0);
        } catch (RuntimeException busy) {
            // something the test left open keeps it busy: detach it so nothing leaks, and still fail the test
            Mounts.unmount(dir, Mounts.MNT_DETACH);
            try {
                Files.delete(dir);
            } catch (IOException ignored) {
                // reported through the rethrow below
            }
            throw busy;
        }
        if (MountInfo.isMountPoint(dir)) {
            throw new IllegalStateException("tmpfs still mounted at " + dir);
        }
        try {
            Files.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
