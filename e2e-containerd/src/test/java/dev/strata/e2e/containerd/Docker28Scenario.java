package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * dockerd 28.5.2 on containerd 2.1.9's image store with the snapshotter under test as its storage driver, driven by
 * the docker CLI 28.5.2: import, run, exec a write, docker diff, docker commit, a container of the committed image,
 * a restart of dockerd and then of the snapshotter with images and containers still usable, and rm/rmi leaving
 * nothing in the snapshotter's storage once containerd has collected its garbage.
 */
abstract class Docker28Scenario extends EngineScenario {
    static final String FILE = "/tmp/written-by-strata-e2e";
    static final String CONTENT = "hello from a layer written through a containerd snapshotter";
    static final String IMAGE = "strata-e2e/busybox:1";
    static final String COMMITTED = "strata-e2e/committed:1";

    Containerd containerd;
    Dockerd dockerd;

    Docker28Scenario(SnapshotterChoice choice) {
        super("docker28", choice);
    }

    @Override
    String whyEnginesMissing() {
        return Engines.CONTAINERD_2_1.whyMissing(true);
    }

    @Override
    void startEngines() {
        containerd = new Containerd(new ContainerdConfig(Engines.CONTAINERD_2_1, ws.resolve("containerd"), snapshotter, Optional.empty()),
                ws.marker);
        containerd.start();
        containerd.awaitSnapshotter(snapshotter, ws.marker);
        dockerd = new Dockerd(containerd, ws.resolve("docker"), snapshotter.name(), ws.marker);
        dockerd.start();
    }

    @Override
    void stopEngines() {
        try {
            if (dockerd != null && dockerd.alive()) {
                dockerd.removeAllContainers();
                dockerd.stop();
            }
            if (containerd != null) containerd.stop();
        } finally {
            if (dockerd != null) dockerd.close();
            if (containerd != null) containerd.close();
        }
    }

    private String run(String image, String... cmd) {
        String[] args = new String[4 + cmd.length];
        args[0] = "run";
        args[1] = "--rm";
        args[2] = "--network=none";
        args[3] = image;
        System.arraycopy(cmd, 0, args, 4, cmd.length);
        return dockerd.dockerOk(args);
    }

    @Test
    @Order(1)
    void dockerdStoresOnTheSnapshotter() {
        assertEquals(Engines.DOCKER_VERSION, dockerd.dockerOk("version", "--format", "{{.Server.Version}}").replaceAll("\\+.*", ""));
        assertEquals(snapshotter.name() + " [[driver-type io.containerd.snapshotter.v1]]",
                dockerd.dockerOk("info", "--format", "{{.Driver}} {{.DriverStatus}}"));
    }

    @Test
    @Order(2)
    void importedImageRuns() {
        Path layer = TestImages.busyboxLayer(ws.resolve("busybox.tar")).file();
        dockerd.dockerOk("import", layer.toString(), IMAGE);
        assertEquals("hello\n0", run(IMAGE, "sh", "-c", "echo hello && id -u"));
        assertFalse(snapshotter.stored(containerd.root()).isEmpty(), "the image's layer is in the snapshotter's own storage");
    }

    @Test
    @Order(3)
    void aWriteShowsInDockerDiffAndSurvivesDockerCommit() {
        // sleep as pid 1 ignores SIGTERM: a stop timeout of 1 s, not 10, when dockerd stops it.
        dockerd.dockerOk("run", "-d", "--name", "c1", "--network=none", "--stop-timeout", "1", IMAGE, "sleep", "600");
        dockerd.dockerOk("exec", "c1", "sh", "-c", "echo '" + CONTENT + "' > " + FILE);
        assertEquals(List.of("C /tmp", "A " + FILE), dockerd.dockerOk("diff", "c1").lines().toList());
        dockerd.dockerOk("commit", "c1", COMMITTED);
        assertEquals(CONTENT, run(COMMITTED, "cat", FILE));
        assertEquals(List.of(), dockerd.docker("run", "--rm", "--network=none", IMAGE, "cat", FILE).out().lines().toList(),
                "the base image does not see the committed file");
    }

    @Test
    @Order(4)
    void imagesAndContainersSurviveADockerdRestart() {
        dockerd.stop();
        dockerd.start();
        assertTrue(dockerd.dockerOk("images", "--format", "{{.Repository}}:{{.Tag}}").lines().toList().containsAll(List.of(IMAGE, COMMITTED)));
        dockerd.dockerOk("start", "c1");
        assertEquals(CONTENT, dockerd.dockerOk("exec", "c1", "cat", FILE));
        assertEquals(CONTENT, run(COMMITTED, "cat", FILE));
    }

    @Test
    @Order(5)
    void aRestartedSnapshotterServesTheSameSnapshotsToContainerdThatKeptRunning() {
        snapshotter.stop();
        snapshotter.start();
        containerd.awaitSnapshotter(snapshotter, ws.marker);
        assertEquals(CONTENT, dockerd.dockerOk("exec", "c1", "cat", FILE), "a running container does not depend on the process");
        assertEquals(List.of("C /tmp", "A " + FILE), dockerd.dockerOk("diff", "c1").lines().toList());
        assertEquals(CONTENT, run(COMMITTED, "cat", FILE));
        dockerd.dockerOk("restart", "-t", "0", "c1");
        assertEquals(CONTENT, dockerd.dockerOk("exec", "c1", "cat", FILE));
    }

    @Test
    @Order(6)
    void rmAndRmiLeaveNoSnapshotAfterContainerdsGarbageCollection() {
        dockerd.removeAllContainers();
        dockerd.dockerOk("rmi", COMMITTED, IMAGE);
        assertEquals("", dockerd.dockerOk("images", "-aq"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<String> left;
        while (!(left = snapshotter.stored(containerd.root())).isEmpty() && System.nanoTime() < deadline) Host.sleep(200);
        assertEquals(List.of(), left, "snapshots left in the snapshotter's storage");
        assertEquals(List.of("KEY PARENT KIND"), containerd.ctrOk("snapshots", "--snapshotter", snapshotter.name(), "ls")
                .lines().map(l -> l.replaceAll("\\s+", " ").strip()).toList());
    }
}
