package dev.strata.conformance;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.kit.DirStorage;
import dev.strata.kit.DriverKit;

import java.nio.file.Path;
import java.util.List;

/** Providers for the kit's own tests, registered in the test resources' META-INF/services. */
final class FakeProviders {
    private FakeProviders() {
    }

    /** driver-kit's test storage, a full copy of the parent per layer, as a driver: runs everywhere, mounts nothing. */
    public static final class Dirs implements DriverProvider {
        @Override
        public String name() {
            return "dirs";
        }

        @Override
        public int priority() {
            return 0;
        }

        @Override
        public List<OptionSpec> options() {
            return List.of();
        }

        @Override
        public Support probe(Path home) {
            return Support.yes("a copy per layer works everywhere");
        }

        @Override
        public StorageDriver open(DriverContext context) {
            return DriverKit.wrap(new DirStorage(context.home()));
        }
    }

    /** A driver that never runs here: every case must be skipped with its reason. */
    public static final class Never implements DriverProvider {
        static final String REASON = "the never driver needs a kernel that does not exist";

        @Override
        public String name() {
            return "never";
        }

        @Override
        public int priority() {
            return -1;
        }

        @Override
        public List<OptionSpec> options() {
            return List.of(OptionSpec.size("never.size", "unused"));
        }

        @Override
        public Support probe(Path home) {
            return Support.no(REASON);
        }

        @Override
        public StorageDriver open(DriverContext context) {
            throw new AssertionError("an unsupported driver was opened");
        }
    }

    /** {@link DirStorage} whose get also mounts a tmpfs that neither put, remove nor cleanup unmounts. */
    public static final class Leaky implements DriverProvider {
        @Override
        public String name() {
            return "leaky";
        }

        @Override
        public int priority() {
            return -1;
        }

        @Override
        public List<OptionSpec> options() {
            return List.of();
        }

        @Override
        public Support probe(Path home) {
            return Support.yes("leaks a mount per layer");
        }

        @Override
        public StorageDriver open(DriverContext context) {
            return DriverKit.wrap(new DirStorage(context.home()) {
                @Override
                public Path root(String id) {
                    Path leak = home().resolve("leaks").resolve(id);
                    if (!dev.strata.nativeio.MountInfo.isMountPoint(leak)) {
                        try {
                            java.nio.file.Files.createDirectories(leak);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                        dev.strata.nativeio.Mounts.mount("leaky", leak, "tmpfs", 0, "size=1m");
                    }
                    return super.root(id);
                }

                @Override
                public String name() {
                    return "leaky";
                }
            });
        }
    }
}
