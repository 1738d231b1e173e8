package dev.strata.e2e.containerd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One containerd daemon, apart from any other on the machine: root, state, socket and config under its directory,
 * its containers in namespace {@code marker} (so ctr puts their cgroups under {@code /marker}). The snapshotter is
 * started by the caller before containerd: containerd keeps a failed proxy connection for a while.
 */
public final class Containerd implements AutoCloseable {
    public final ContainerdConfig config;
    public final String namespace;
    public final Path log;
    private Process process;

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
        if (process != null && process.isAlive()) throw new IllegalStateException("containerd already runs");
        try {
            Files.createDirectories(config.cniConf());
            Files.createDirectories(config.cniBin());
            Files.writeString(config.file(), config.toml());
            ProcessBuilder pb = new ProcessBuilder(engine().containerd().toString(), "--config", config.file().toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().put("PATH", engine().path());
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start containerd in " + config.dir(), e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(socket()) || ctr("version").code() != 0) {
            if (!process.isAlive()) throw new AssertionError("containerd exited " + process.exitValue() + ":\n" + Host.tail(log, 30));
            if (System.nanoTime() > deadline) throw new AssertionError("containerd not ready after 60 s:\n" + Host.tail(log, 30));
            Host.sleep(50);
        }
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
        return ctr(args).ok().out().trim();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGTERM and wait. Shims outlive containerd by design: remove containers first. */
    public void stop() {
        if (process == null || !process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("containerd did not stop within 60 s of SIGTERM:\n" + Host.tail(log, 30));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
