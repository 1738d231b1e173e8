package dev.strata.testsupport;

import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's dockerd 20.10, isolated from anything else on the machine: its own data root, exec root, pid file,
 * config file, API socket, containerd namespace and cgroup parent, all named with {@code marker}, so that what it
 * leaves behind can be found and removed by this test alone.
 */
public final class Dockerd implements AutoCloseable {
    public static final Path DOCKERD = Host.which("dockerd");
    public static final Path DOCKER = Host.which("docker");

    public final Path dir;
    public final Path dataRoot;
    public final Path execRoot;
    public final Path apiSocket;
    public final Path log;
    public final String storageDriver;
    public final String marker;
    private Process process;
    private UsernsRemap remap;

    /**
     * dockerd's {@code --userns-remap=user} with the subordinate ids in files of the test's own: dockerd reads them
     * from {@code /etc/subuid} and {@code /etc/subgid} only, so it runs in a mount namespace of its own where those
     * two files are bind-mounted over (nothing of the machine's changes). That namespace is a slave of this one, so
     * the mounts the plugin makes for dockerd reach it; {@code dir} must be on a shared mount for that.
     */
    public record UsernsRemap(String user, Path subuid, Path subgid) {
    }

    /** Runs dockerd with {@code --userns-remap} (see {@link UsernsRemap}); call before {@link #launch}. */
    public Dockerd withUsernsRemap(UsernsRemap remap) {
        this.remap = remap;
        return this;
    }

    /** Where dockerd keeps its layers: {@code data/<uid>.<gid>} under --userns-remap, as dockerd names it. */
    public Path layerRoot(int remappedUid, int remappedGid) {
        return remap == null ? dataRoot : dataRoot.resolve(remappedUid + "." + remappedGid);
    }

    /**
     * @param dir           where its roots go (a tmpfs the caller mounted)
     * @param apiSocket     the API socket; one path for the whole JVM, as Testcontainers keeps its first DOCKER_HOST
     * @param storageDriver {@code -s}: the plugin's name
     * @param marker        a string unique to this test run
     */
    public Dockerd(Path dir, Path apiSocket, String storageDriver, String marker) {
        this.dir = dir;
        this.dataRoot = dir.resolve("data");
        this.execRoot = dir.resolve("exec");
        this.apiSocket = apiSocket;
        this.log = dir.resolve("dockerd.log");
        this.storageDriver = storageDriver;
        this.marker = marker;
    }

    /** Starts dockerd without waiting for it. */
    public void launch() throws IOException {
        if (process != null && process.isAlive()) throw new IllegalStateException("dockerd already running");
        Path config = dir.resolve("daemon.json");
        if (!Files.exists(config)) Files.writeString(config, "{}\n"); // not /etc/docker/daemon.json
        List<String> dockerd = List.of(DOCKERD.toString(), "--experimental", "-s", storageDriver,
                "--data-root", dataRoot.toString(), "--exec-root", execRoot.toString(),
                "--pidfile", dir.resolve("docker.pid").toString(), "--config-file", config.toString(),
                "-H", "unix://" + apiSocket, "--iptables=false", "--ip6tables=false", "--bridge=none",
                "--containerd-namespace", marker, "--containerd-plugins-namespace", marker + "-plugins",
                "--cgroup-parent", "/" + marker, "--log-level", "info");
        List<String> cmd = new ArrayList<>();
        if (remap != null) {
            cmd.addAll(List.of("unshare", "--mount", "--propagation", "slave", "sh", "-c",
                    "mount --bind \"$1\" /etc/subuid && mount --bind \"$2\" /etc/subgid && shift 2 && exec \"$@\"",
                    "sh", remap.subuid().toString(), remap.subgid().toString()));
        }
        cmd.addAll(dockerd);
        if (remap != null) cmd.addAll(List.of("--userns-remap", remap.user()));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Waits until the API answers {@code /_ping}; fails with the log's tail if dockerd exits or is too slow. */
    public void awaitReady(int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!ping()) {
            if (!process.isAlive()) throw new AssertionError("dockerd exited " + process.exitValue() + ":\n" + Host.tail(log, 30));
            if (System.nanoTime() > deadline) throw new AssertionError("dockerd not ready after " + seconds + " s:\n" + Host.tail(log, 30));
            Host.sleep(100);
        }
    }

    public boolean ping() {
        if (!Files.exists(apiSocket)) return false;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(apiSocket));
            ch.write(ByteBuffer.wrap("GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (ch.read(b) >= 0 && b.hasRemaining()) {
                // read to the end
            }
            String reply = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
            return reply.startsWith("HTTP/1.1 200") && reply.endsWith("OK");
        } catch (IOException e) {
            return false;
        }
    }

    /** The docker CLI against this daemon, with a config dir of its own. */
    public Host.Result docker(String... args) {
        List<String> cmd = new ArrayList<>(List.of(DOCKER.toString(), "-H", "unix://" + apiSocket));
        cmd.addAll(List.of(args));
        return Host.run(cmd, Map.of("DOCKER_CONFIG", dir.resolve("cli").toString()), 180);
    }

    public String dockerOk(String... args) {
        return docker(args).ok("docker " + String.join(" ", args)).out().trim();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** SIGTERM and wait: dockerd stops its containers, calls the plugin's Cleanup and stops its containerd. */
    public void stop() {
        if (process == null || !process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("dockerd did not stop within 60 s of SIGTERM:\n" + Host.tail(log, 30));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Kills what is left of this daemon's processes (containerd, shims, runc, container processes: found by the
     * marker in their command line or cgroup), unmounts everything under its directory (a failed start can leave
     * the data root bind-mounted) and removes its cgroups. Returns what had leaked, for the caller to report.
     */
    public List<String> cleanUp() {
        List<String> leaked = new ArrayList<>();
        if (process != null && process.isAlive()) {
            leaked.add("dockerd pid " + process.pid());
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (int round = 0; round < 3; round++) {
            List<Host.Proc> left = Host.processesMentioning(marker);
            if (left.isEmpty()) break;
            left.forEach(p -> leaked.add("process " + p.pid() + ": " + p.cmdline()));
            Host.kill(left);
            Host.sleep(300);
        }
        for (MountInfo m : MountInfo.under(dataRoot)) leaked.add("mount " + m.mountPoint());
        for (MountInfo m : MountInfo.under(execRoot)) leaked.add("mount " + m.mountPoint());
        Mounts.unmountAllUnder(dataRoot);
        Mounts.unmountAllUnder(execRoot);
        removeCgroups(marker);
        return leaked;
    }

    /** Removes the cgroup-parent directories this daemon made, deepest first (rmdir of empty cgroups). */
    public static void removeCgroups(String marker) {
        Path root = Path.of("/sys/fs/cgroup");
        List<Path> found = new ArrayList<>();
        try (var top = Files.list(root)) {
            for (Path hierarchy : top.toList()) {
                if (hierarchy.getFileName().toString().equals(marker)) found.add(hierarchy); // cgroup v2
                Path p = hierarchy.resolve(marker);
                if (Files.isDirectory(p)) found.add(p);
            }
        } catch (IOException e) {
            return;
        }
        for (Path cg : found) {
            try (var walk = Files.walk(cg)) {
                for (Path d : walk.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.delete(d);
                    } catch (IOException busy) {
                        // still has tasks; reported through the process scan
                    }
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        }
    }

    @Override
    public void close() {
        stop();
        cleanUp();
    }
}
