package dev.strata.snapshotter;

import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshotter process for the tests (the CLI depends on this module, so its command is not on the test class
 * path): {@code -s DRIVER [-o KEY=VALUE]... --socket PATH --root DIR}, the layout of {@code strata snapshotter serve}.
 */
public final class ServeMain {
    private ServeMain() {
    }

    public static void main(String[] args) throws Exception {
        String driverName = null;
        Path socket = null, root = null;
        List<String> options = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-s" -> driverName = args[++i];
                case "-o" -> options.add(args[++i]);
                case "--socket" -> socket = Path.of(args[++i]);
                case "--root" -> root = Path.of(args[++i]).toAbsolutePath();
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        DriverRegistry registry = DriverRegistry.load();
        var provider = registry.require(driverName);
        StorageDriver driver = registry.open(provider, root, options);
        Snapshotter sn = Snapshotter.open(driver, root.resolve("snapshots").resolve(provider.name()));
        SnapshotterServer.serve(socket, sn, Duration.ofSeconds(20));
    }
}
