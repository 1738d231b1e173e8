package dev.strata.e2e.containerd;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The snapshotter a test's containerd stores layers with: one built into containerd, or a proxy snapshotter on a
 * UNIX socket (Strata's), which containerd's config registers as {@code [proxy_plugins.NAME]}.
 */
public interface Snapshotter extends AutoCloseable {
    /** The name containerd, ctr, dockerd's storage-driver and CRI's {@code snapshotter} setting use. */
    String name();

    /** The socket of a proxy snapshotter; empty for a built-in one. */
    Optional<Path> proxySocket();

    /** Where containerd's config says the proxy keeps its data ({@code exports.root}, containerd 1.7+); may be empty. */
    default Optional<Path> exportedRoot() {
        return Optional.empty();
    }

    /**
     * What containerd 2.x's config grants the proxy ({@code capabilities}), e.g. {@code remap-ids}: containerd's client
     * then sends user-namespace id maps as labels instead of making a chown'ed copy itself. Empty for a built-in one.
     */
    default List<String> capabilities() {
        return List.of();
    }

    /** Starts serving and waits for the socket; a no-op for a built-in snapshotter (containerd serves it). */
    void start();

    /** Stops as systemd would (SIGTERM) and waits; a no-op for a built-in snapshotter. */
    void stop();

    /** The serving process, if it is one of ours and alive. */
    Optional<ProcessHandle> process();

    /**
     * The snapshots still stored (one line each), read from the snapshotter's own storage rather than from containerd's
     * metadata: after containerd's garbage collection this is empty when nothing leaked.
     *
     * @param containerdRoot the root of the containerd that used it (where built-in snapshotters keep their data)
     */
    List<String> stored(Path containerdRoot);

    /** Stops it if it still runs; idempotent. */
    @Override
    void close();
}
