package dev.strata.driver.btrfs;

import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import dev.strata.conformance.LoopFilesystem;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A btrfs for the driver's own tests: made with mkfs.btrfs on a sparse file in a tmpfs of its own, on a loop
 * device. Closing unmounts both and checks that nothing under it stayed mounted. Skips (with the reason) where
 * this cannot be done: not root, no mkfs.btrfs, no btrfs in the kernel.
 */
final class LoopBtrfs implements AutoCloseable {
    private final Path dir;
    private final LoopFilesystem fs;
    private final AtomicInteger roots = new AtomicInteger();

    private LoopBtrfs(Path dir, LoopFilesystem fs) {
        this.dir = dir;
        this.fs = fs;
    }

    static LoopBtrfs make() throws IOException {
        assumeTrue(Kernel.isRoot(), "needs root: mounts a tmpfs and a loop btrfs");
        Path dir = Files.createTempDirectory("strata-btrfs-test-");
        Mounts.mount("strata-btrfs-test", dir, "tmpfs", 0, "size=4g");
        try {
            return new LoopBtrfs(dir, LoopFilesystem.make(dir.resolve("fs"), "btrfs", 4L << 30, null));
        } catch (LoopFilesystem.Unavailable e) {
            Mounts.unmountIfMounted(dir, Mounts.MNT_DETACH);
            Files.deleteIfExists(dir);
            return abort(e.getMessage());
        } catch (IOException | RuntimeException e) {
            Mounts.unmountIfMounted(dir, Mounts.MNT_DETACH);
            Files.deleteIfExists(dir);
            throw e;
        }
    }

    /** The btrfs's root directory. */
    Path mountPoint() {
        return fs.mountPoint();
    }

    /** A new, empty directory on the btrfs, for one driver root. */
    Path newRoot(String label) throws IOException {
        return Files.createDirectory(fs.mountPoint().resolve(roots.incrementAndGet() + "-" + label));
    }

    /** A directory on the tmpfs (not the btrfs), for tars and other files. */
    Path scratch(String name) throws IOException {
        return Files.createDirectories(dir.resolve("scratch").resolve(name));
    }

    static StorageDriver open(Path root, String... options) {
        DriverRegistry r = DriverRegistry.load();
        return r.open(r.require("btrfs"), root, List.of(options));
    }

    @Override
    public void close() throws IOException {
        try {
            fs.close();
        } finally {
            List<MountInfo> left = MountInfo.under(dir).stream().filter(m -> !m.mountPoint().equals(dir.toString())).toList();
            Mounts.unmountAllUnder(dir.resolve("fs"));
            Mounts.unmountIfMounted(dir, Mounts.MNT_DETACH);
            Trees.deleteQuietly(dir);
            if (!left.isEmpty()) throw new IllegalStateException("still mounted after the tests: " + left);
        }
    }
}
