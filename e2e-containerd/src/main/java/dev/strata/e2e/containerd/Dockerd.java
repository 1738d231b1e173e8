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
 * dockerd 28.5.2 on the containerd image store, against a containerd the test started (not one of its own), with
 * daemon.json {@code {"features":{"containerd-snapshotter":true},"storage-driver":NAME}}: the storage driver is
 * that containerd's snapshotter. Its data root, exec root, pid file, config, API socket, containerd namespaces and
 * cgroup parent are all its own and named with the test's marker.
 */
public final class Dockerd implements AutoCloseable {
    public final Containerd containerd;
    public final Path dir;
    public final Path apiSocket;
    public final Path log;
    public final String snapshotter;
    private final String marker;
    private DaemonProcess process;

    public Dockerd(Containerd containerd, Path dir, String snapshotter, String marker) {
        this.containerd = containerd;
        this.dir = dir;
        this.apiSocket = dir.resolve("docker.sock");
        this.log = dir.resolve("dockerd.log");
        this.snapshotter = snapshotter;
        this.marker = marker;
    }

    /** The daemon.json this dockerd runs with (also what the README shows). */
    public String daemonJson() {
        return "{\"features\":{\"containerd-snapshotter\":true},\"storage-driver\":\"" + snapshotter + "\"}\n";
    }

    /** Starts dockerd and waits until its API answers. */
    public void start() {
        if (alive()) throw new IllegalStateException("dockerd already runs");
        Path config = dir.resolve("daemon.json");
        try {
            Files.createDirectories(dir);
            Files.writeString(config, daemonJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + config, e);
        }
        List<String> cmd = List.of(Engines.DOCKERD.toString(), "--config-file", config.toString(),
                    "--data-root", dir.resolve("data").toString(), "--exec-root", dir.resolve("exec").toString(),
                    "--pidfile", dir.resolve("docker.pid").toString(), "-H", "unix://" + apiSocket,
                    "--containerd", containerd.socket().toString(),
                    "--containerd-namespace", marker, "--containerd-plugins-namespace", marker + "-plugins",
                    "--cgroup-parent", "/" + marker, "--iptables=false", "--ip6tables=false", "--bridge=none");
        process = DaemonProcess.start("dockerd " + Engines.DOCKER_VERSION, cmd, Map.of("PATH", containerd.engine().path()), log);
        process.awaitReady(60, () -> Files.exists(apiSocket) && docker("version").code() == 0);
    }

    /** The docker CLI 28.5.2 against this daemon, with a config directory of its own. */
    public Host.Result docker(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Engines.DOCKER_CLI.toString(), "-H", "unix://" + apiSocket));
        cmd.addAll(List.of(args));
        return Host.run(cmd, Map.of("DOCKER_CONFIG", dir.resolve("cli").toString()), 300);
    }

    public String dockerOk(String... args) {
        return docker(args).ok("docker " + String.join(" ", args)).out().trim();
    }

    public boolean alive() {
        return process != null && process.alive();
    }

    /** SIGTERM and wait: dockerd stops its containers. */
    public void stop() {
        if (alive()) process.terminate(60);
    }

    /** Forcibly removes every container this dockerd has. */
    public void removeAllContainers() {
        String ids = docker("ps", "-aq").out().trim();
        if (ids.isEmpty()) return;
        List<String> rm = new ArrayList<>(List.of("rm", "-f"));
        rm.addAll(List.of(ids.split("\\s+")));
        docker(rm.toArray(String[]::new));
    }

    @Override
    public void close() {
        if (process != null) process.kill();
    }
}
