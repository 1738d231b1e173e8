package dev.strata.driver.overlay;

import dev.strata.api.DriverOptions;
import dev.strata.api.StorageDriver;
import dev.strata.kit.DriverKit;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A tmpfs the test mounts for itself (the VM's /tmp is slow for many small files), and the check at the end that
 * nothing the test mounted is left.
 */
final class ScratchFs implements AutoCloseable {
    final Path root;

    private ScratchFs(Path root) {
        this.root = root;
    }

    static ScratchFs mount(Path tmp) throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount (running as uid " + Kernel.euid() + ")");
        assumeTrue(Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        Path root = Files.createDirectory(tmp.resolve("fs"));
        Mounts.mount("strata-overlay-test", root, "tmpfs", 0, "size=512m,mode=0755");
        return new ScratchFs(root);
    }

    static StorageDriver open(Path home, String... options) {
        return DriverKit.wrap(OverlayStorage.open(home, OverlayOptions.from(DriverOptions.parse("overlay", List.of(options), OverlayOptions.SPECS))));
    }

    /** What the probe found for a driver opened by {@link #open}. */
    static Features features(StorageDriver d) {
        return DriverKit.storage(d, OverlayStorage.class).features();
    }

    /** Fails if the test left a mount below the scratch fs (after unmounting everything, so nothing leaks). */
    @Override
    public void close() {
        List<String> left = MountInfo.under(root).stream().map(MountInfo::mountPoint)
                .filter(m -> !m.equals(root.toString())).toList();
        Mounts.unmountAllUnder(root);
        assertTrue(MountInfo.under(root).isEmpty(), "no mount left under " + root);
        assertTrue(left.isEmpty(), "the test left mounts behind: " + left);
    }
}
