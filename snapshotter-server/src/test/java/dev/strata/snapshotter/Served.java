package dev.strata.snapshotter;

import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A snapshotter served in this JVM on a temporary root, with a client on its socket. */
final class Served implements AutoCloseable {
    final Path root;
    final Snapshotter snapshotter;
    final SnapshotterServer server;
    final Client client;

    Served(String driverName, Path root) throws IOException {
        this.root = root;
        DriverRegistry registry = DriverRegistry.load();
        var provider = registry.require(driverName);
        StorageDriver driver = registry.open(provider, root, List.of());
        snapshotter = Snapshotter.open(driver, root.resolve("snapshots").resolve(provider.name()));
        server = SnapshotterServer.start(root.resolve("s.sock"), snapshotter, Duration.ofSeconds(5));
        client = new Client(server.socket());
    }

    @Override
    public void close() {
        client.close();
        server.close();
        snapshotter.releaseMounts();
    }
}
