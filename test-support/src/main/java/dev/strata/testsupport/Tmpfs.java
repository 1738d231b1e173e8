package dev.strata.testsupport;

import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A tmpfs a test mounts itself (the VM's /tmp is ext4 on its disk, where each file costs ~0.5 ms). Closing it fails
 * when the test left a mount of its own below it (only what is under this tmpfs is looked at, so other engineers'
 * mounts do not count), unmounts everything there and checks that the tmpfs is really gone. Skips the test without
 * root.
 */
public final class Tmpfs implements AutoCloseable {
    private final Path root;
    private final boolean ownDirectory;

    private Tmpfs(Path root, boolean ownDirectory) {
        this.root = root;
        this.ownDirectory = ownDirectory;
    }

    /** A new tmpfs of {@code size} (e.g. "256m") on a new temporary directory, which close removes. */
    public static Tmpfs mount(String size) {
        Assumptions.assumeTrue(Kernel.isRoot(), "mounting a tmpfs needs root");
        try {
            Path d = Files.createTempDirectory("strata-test-");
            Mounts.mount("tmpfs", d, "tmpfs", Mounts.MS_NOSUID, "size=" + size + ",mode=0755");
            return new Tmpfs(d, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new tmpfs of {@code size} on the existing directory {@code dir} (a JUnit {@code @TempDir}), left in place. */
    public static Tmpfs at(Path dir, String size) {
        Assumptions.assumeTrue(Kernel.isRoot(), "mounting a tmpfs for the test data needs root");
        Mounts.mount("tmpfs", dir, "tmpfs", 0, "size=" + size + ",mode=0755");
        return new Tmpfs(dir, false);
    }

    public Path path() {
        return root;
    }

    /** {@code name} under the tmpfs, made if missing. */
    public Path dir(String name) {
        try {
            return Files.createDirectories(root.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Mounts made below the tmpfs (not the tmpfs itself). */
    public List<String> mountsBelow() {
        return MountInfo.under(root).stream().map(MountInfo::mountPoint).filter(m -> !m.equals(root.toString())).toList();
    }

    @Override
    public void close() {
        List<String> leaked = mountsBelow();
        Mounts.unmountAllUnder(root);
        if (MountInfo.isMountPoint(root)) throw new IllegalStateException("tmpfs still mounted at " + root);
        if (ownDirectory) {
            try {
                Files.delete(root);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (!leaked.isEmpty()) throw new IllegalStateException("the test left mounts behind under " + root + ": " + leaked);
    }
}
