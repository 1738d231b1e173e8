package dev.strata.e2e.containerd;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A snapshotter that is a process of its own serving a UNIX socket, registered in containerd's proxy_plugins. */
public abstract class ProxySnapshotter implements Snapshotter {
    protected final Path socket;
    protected final Path log;
    protected final Path root;
    private DaemonProcess process;

    /** Serving on {@code dir/<name>.sock}, logging to {@code dir/<name>.log}, keeping its data in {@code dir/<name>-root}. */
    protected ProxySnapshotter(Path dir, String name) {
        this.socket = dir.resolve(name + ".sock");
        this.log = dir.resolve(name + ".log");
        this.root = dir.resolve(name + "-root");
    }

    /** The command line that serves on {@link #socket}. */
    protected abstract List<String> command();

    @Override
    public Optional<Path> proxySocket() {
        return Optional.of(socket);
    }

    @Override
    public Optional<Path> exportedRoot() {
        return Optional.of(root);
    }

    public Path root() {
        return root;
    }

    /** Starts serving and waits for the socket. */
    @Override
    public void start() {
        if (process != null && process.alive()) throw new IllegalStateException(name() + " already runs");
        process = DaemonProcess.start(name(), command(), Map.of(), log);
        process.awaitFile(socket, 60);
    }

    /** SIGTERM and wait; returns the exit code (143 when a JVM ends on the signal). */
    public int terminate() {
        if (process == null) throw new IllegalStateException(name() + " was not started");
        return process.terminate(60);
    }

    @Override
    public void stop() {
        if (process != null) terminate();
    }

    @Override
    public Optional<ProcessHandle> process() {
        return process != null && process.alive() ? Optional.of(process.handle()) : Optional.empty();
    }

    public Path log() {
        return log;
    }

    @Override
    public void close() {
        if (process != null) process.kill();
    }
}
