package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One containerd daemon, apart from any other on the machine: root, state, socket and config under its directory,
 * its containers in namespace {@code marker} (so ctr puts their cgroups under {@code /marker}). The snapshotter is
 * started by the caller before containerd: containerd keeps a failed proxy connection for a while.
 */
public final class Containerd implements AutoCloseable {
    public final ContainerdConfig config;
    public final String namespace;
    public final Path log;
    private DaemonProcess process;

    public Containerd(ContainerdConfig config, String namespace) {
        this.config = config;
        this.namespace = namespace;
        this.log = config.dir().resolve("containerd.log");
    }

    public Engines engine() {
        return config.engine();
    }

    public Path socket() {
        return config.socket();
    }

    public Path root() {
        return config.root();
    }

    /** Writes config.toml, starts containerd and waits until it answers. */
    public void start() {
        if (alive()) throw new IllegalStateException("containerd already runs");
        try {
            Files.createDirectories(config.cniConf());
            Files.createDirectories(config.cniBin());
            Files.writeString(config.file(), config.toml());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + config.file(), e);
        }
        process = DaemonProcess.start("containerd " + engine().version, List.of(engine().containerd().toString(), "--config",
                config.file().toString()), Map.of("PATH", engine().path()), log);
        process.awaitReady(60, () -> Files.exists(socket()) && ctr("version").code() == 0);
    }

    /**
     * Waits until a call through this containerd reaches the proxy snapshotter (a Prepare and Remove of a probe key);
     * returns how many calls failed first. containerd dials a proxy with a connect deadline of its back-off, about
     * 1 s on the first attempt (up to 3 s later), that includes the HTTP/2 handshake, and fails calls while the
     * connection is down: a snapshotter slower than that to answer its first connection fails containerd's first
     * calls ("error reading server preface ... use of closed network connection"). A no-op for a built-in one.
     */
    public int awaitSnapshotter(Snapshotter snapshotter, String namespace) {
        if (snapshotter.proxySocket().isEmpty()) return 0;
        String probe = "strata-e2e-probe";
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        int failed = 0;
        Host.Result r;
        while ((r = ctrIn(namespace, "snapshots", "--snapshotter", snapshotter.name(), "prepare", probe)).code() != 0) {
            failed++;
            if (System.nanoTime() > deadline) throw new AssertionError("containerd cannot reach " + snapshotter.name() + ": " + r.err());
            Host.sleep(200);
        }
        ctrIn(namespace, "snapshots", "--snapshotter", snapshotter.name(), "rm", probe).ok("ctr snapshots rm " + probe);
        if (failed > 0) System.err.println("containerd reached " + snapshotter.name() + " after " + failed + " failed call(s): " + r.err());
        return failed;
    }

    /** ctr against this containerd, in its namespace. */
    public Host.Result ctr(String... args) {
        return ctrIn(namespace, args);
    }

    /** ctr against this containerd in another namespace, e.g. CRI's {@code k8s.io}. */
    public Host.Result ctrIn(String namespace, String... args) {
        List<String> cmd = new ArrayList<>(List.of(engine().ctr().toString(), "--address", socket().toString(), "--namespace", namespace));
        cmd.addAll(List.of(args));
        return Host.run(cmd, Map.of("PATH", engine().path()), 300);
    }

    public String ctrOk(String... args) {
        return ctr(args).ok("ctr " + String.join(" ", args)).out().trim();
    }

    public boolean alive() {
        return process != null && process.alive();
    }

    /** SIGTERM and wait. Shims outlive containerd by design: remove containers first. */
    public void stop() {
        if (alive()) process.terminate(60);
    }

    @Override
    public void close() {
        if (process != null) process.kill();
    }
}
