package dev.strata.driver.overlay;

import dev.strata.nativeio.Mounts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A dockerd of the test's own: its own data root, exec root, socket and pid file under {@code dir}, no iptables,
 * no bridge, the overlay2 storage driver. {@link #close} stops it and everything it started, and unmounts what it
 * left under {@code dir}.
 */
final class Dockerd implements AutoCloseable {
    static final Path DOCKERD = Path.of("/usr/sbin/dockerd");

    final Path dir;
    final Path dataRoot;
    private final Path socket;
    private final Process process;

    private Dockerd(Path dir, Process process) {
        this.dir = dir;
        this.dataRoot = dir.resolve("data");
        this.socket = dir.resolve("docker.sock");
        this.process = process;
    }

    static String dockerCli() {
        for (String p : List.of("/usr/local/bin/docker", "/usr/bin/docker")) if (Files.isExecutable(Path.of(p))) return p;
        return null;
    }

    static Dockerd start(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(dir.resolve("exec"));
        Files.writeString(dir.resolve("daemon.json"), "{}");
        ProcessBuilder pb = new ProcessBuilder(DOCKERD.toString(), "--config-file", dir.resolve("daemon.json").toString(),
                "--data-root", dir.resolve("data").toString(), "--exec-root", dir.resolve("exec").toString(),
                "-H", "unix://" + dir.resolve("docker.sock"), "--pidfile", dir.resolve("docker.pid").toString(),
                "--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=overlay2", "--log-level=warn")
                .redirectErrorStream(true).redirectOutput(dir.resolve("dockerd.log").toFile());
        Dockerd d = new Dockerd(dir, pb.start());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!d.process.isAlive()) throw new IllegalStateException("dockerd exited: " + d.log());
            if (Files.exists(d.socket) && d.tryDocker("version", "--format", "{{.Server.Version}}") != null) return d;
            Thread.sleep(100);
        }
        d.close();
        throw new IllegalStateException("dockerd did not answer within 30 s: " + d.log());
    }

    String log() {
        try {
            return Files.readString(dir.resolve("dockerd.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Runs the docker CLI against this daemon; returns stdout, or throws with its output on failure. */
    String docker(String... args) throws Exception {
        Result r = run(args);
        if (r.exit != 0) throw new IllegalStateException("docker " + String.join(" ", args) + " exited " + r.exit + ": " + r.out);
        return r.out.strip();
    }

    private String tryDocker(String... args) throws Exception {
        Result r = run(args);
        return r.exit == 0 ? r.out : null;
    }

    private record Result(int exit, String out) {
    }

    private Result run(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(dockerCli(), "-H", "unix://" + socket));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("docker " + String.join(" ", args) + " timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Stops dockerd (SIGTERM, then SIGKILL after 30 s) and its children, then unmounts what is left under dir. */
    @Override
    public void close() throws Exception {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        for (ProcessHandle c : children) {
            if (c.isAlive()) {
                c.destroy();
                c.onExit().get(10, TimeUnit.SECONDS);
            }
        }
        Mounts.unmountAllUnder(dir);
    }
}
