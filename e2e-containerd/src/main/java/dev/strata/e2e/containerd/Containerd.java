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
