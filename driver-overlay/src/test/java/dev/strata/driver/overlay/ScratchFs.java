package dev.strata.driver.overlay;

import dev.strata.testsupport.Tmpfs;
import dev.strata.api.DriverOptions;
import dev.strata.api.StorageDriver;
import dev.strata.kit.DriverKit;
import dev.strata.nativeio.Kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A tmpfs of the test's own ({@link Tmpfs}: closing it fails if the test left a mount below), where overlay can run,
 * and the driver opened on a home there.
 */
final class ScratchFs implements AutoCloseable {
    final Path root;
    private final Tmpfs tmpfs;

    private ScratchFs(Tmpfs tmpfs) {
        this.tmpfs = tmpfs;
        this.root = tmpfs.path();
    }

    static ScratchFs mount(Path tmp) throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount (running as uid " + Kernel.euid() + ")");
        assumeTrue(Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        return new ScratchFs(Tmpfs.at(Files.createDirectory(tmp.resolve("fs")), "512m"));
    }

    static StorageDriver open(Path home, String... options) {
        return DriverKit.wrap(OverlayStorage.open(home, OverlayOptions.from(DriverOptions.parse("overlay", List.of(options), OverlayOptions.SPECS))));
    }

    /** What the probe found for a driver opened by {@link #open}. */
    static Features features(StorageDriver d) {
        return DriverKit.storage(d, OverlayStorage.class).features();
    }

    @Override
    public void close() {
        tmpfs.close();
    }
}
