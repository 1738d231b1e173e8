package dev.strata.e2e;

import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import dev.strata.testsupport.Dockerd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the end-to-end tests share in one JVM: a scratch directory named after the JVM's pid, and dockerd's API
 * socket in it, which is also Testcontainers' DOCKER_HOST. Testcontainers picks its Docker host once per JVM; the
 * test resource {@code testcontainers.properties} sets {@code dockerconfig.source=autoIgnoringUserProperties}, so
 * the {@code DOCKER_HOST} system property set here is what it uses (and ~/.testcontainers.properties is not).
 */
final class E2e {
    static final String ID = "strata-e2e-" + ProcessHandle.current().pid();
    static final Path BASE = Path.of("/tmp", ID);
    static final Path API_SOCKET = BASE.resolve("docker.sock");

    private E2e() {
    }

    static synchronized void init() throws IOException {
        Files.createDirectories(BASE);
        System.setProperty("DOCKER_HOST", "unix://" + API_SOCKET);
    }

    /** A fresh tmpfs for one run's data: layers, dockerd's roots, logs. */
    static Path mountRun(String name) throws IOException {
        init();
        Path dir = BASE.resolve(name);
        Files.createDirectories(dir);
        Mounts.mount("strata-e2e", dir, "tmpfs", 0, "size=2g,mode=0755");
        return dir;
    }

    /** Copies the run's logs to {@code target/e2e-logs} (for the build's report), then unmounts and removes it. */
    static void unmountRun(Path dir, Path keepLogsIn) {
        try {
            Files.createDirectories(keepLogsIn);
            for (String log : List.of("dockerd.log", "plugin.log")) {
                Path p = dir.resolve(log);
                if (Files.exists(p)) Files.copy(p, keepLogsIn.resolve(dir.getFileName() + "-" + log),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.err.println("e2e: cannot keep the logs of " + dir + ": " + e);
        }
        Mounts.unmountAllUnder(dir);
        try {
            Files.deleteIfExists(dir);
            try (var left = Files.list(BASE)) {
                if (left.findAny().isEmpty()) Files.deleteIfExists(BASE);
            }
        } catch (IOException e) {
            System.err.println("e2e: cannot remove " + dir + ": " + e);
        }
    }

    /**
     * Stops what a scenario started on {@code run}: removes dockerd's containers, stops dockerd and the plugin, and
     * unmounts {@code run} (keeping the logs). Returns what was left behind (mounts, dockerd's leftovers).
     */
    static List<String> stopAll(Path run, Dockerd dockerd, PluginProcess plugin) {
        List<String> leaks = new ArrayList<>();
        try {
            if (dockerd != null && dockerd.alive()) {
                String ids = dockerd.docker("ps", "-aq").out().trim();
                if (!ids.isEmpty()) {
                    List<String> rm = new ArrayList<>(List.of("rm", "-f"));
                    rm.addAll(Arrays.asList(ids.split("\\s+")));
                    dockerd.docker(rm.toArray(String[]::new));
                }
                dockerd.stop();
            }
            if (plugin != null) plugin.stop();
        } finally {
            if (dockerd != null) leaks.addAll(dockerd.cleanUp());
            if (plugin != null) plugin.close();
            for (MountInfo m : MountInfo.under(run)) {
                if (!m.mountPoint().equals(run.toString())) leaks.add("mount " + m.mountPoint());
            }
            unmountRun(run, Path.of("target", "e2e-logs"));
        }
        return leaks;
    }
}
