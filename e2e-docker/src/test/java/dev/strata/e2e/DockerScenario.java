package dev.strata.e2e;

import dev.strata.testsupport.Dockerd;
import dev.strata.testsupport.Host;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.Support;
import dev.strata.archive.TreeChanges;
import dev.strata.cli.Main;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An unmodified dockerd 20.10 running containers on Strata's plugin, driven by Testcontainers: run, exec a write,
 * docker diff, docker commit (Diff and ApplyDiff), a container of the new image, a daemon restart, and removal of
 * every layer. The steps build on each other and run in order; a subclass names the driver the plugin serves.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
abstract class DockerScenario {
    static final String FILE = "/tmp/written-by-strata-e2e";
    static final String CONTENT = "hello from a layer written through the strata plugin";

    private final String driver;
    private final String pluginName;
    private final String busybox;
    private final String committed;
    private Path run;
    private Dockerd dockerd;
    private PluginProcess plugin;
    private final List<String> leaks = new ArrayList<>();
    private String skipReason;

    DockerScenario(String driver) {
        this.driver = driver;
        this.pluginName = E2e.ID + "-" + driver;
        this.busybox = "strata-e2e/busybox-" + driver + ":1";
        this.committed = "strata-e2e/committed-" + driver + ":1";
    }

    /** Why this machine cannot run the scenario, or null if it can. */
    private String whyNotRunnable() {
        if (!Kernel.isRoot()) return "needs root: dockerd, mounts";
        if (Dockerd.DOCKERD == null) return "dockerd is not installed (Debian: apt-get install docker.io)";
        if (Dockerd.DOCKER == null) return "the docker CLI is not installed (Debian: apt-get install docker.io)";
        if (!Files.isExecutable(BusyboxImage.BUSYBOX)) return "/bin/busybox is missing (Debian: apt-get install busybox-static)";
        Optional<DriverProvider> p = DriverRegistry.load().find(driver);
        if (p.isEmpty()) return "no storage driver named " + driver + " on the class path";
        Support s = p.get().probe(E2e.BASE);
        if (!s.supported()) return driver + " cannot run here: " + s.reason();
        if (!archiveImplemented()) {
            return "layer-archive is still a contract only (its bodies throw UnsupportedOperationException):"
                    + " docker import needs ApplyDiff, docker diff and commit need Changes and Diff";
        }
        return null;
    }

    /** Whether layer-archive's diff code exists yet, tried on two empty directories. */
    private static boolean archiveImplemented() {
        try {
            Path a = Files.createTempDirectory("strata-e2e-probe");
            try {
                TreeChanges.between(a, a);
                return true;
            } finally {
                Files.delete(a);
            }
        } catch (UnsupportedOperationException contractOnly) {
            return false;
        } catch (Exception other) {
            return true; // implemented, just unhappy with the probe: let the scenario show what fails
        }
    }

    private Path home() {
        return dockerd.dataRoot.resolve(pluginName);
    }

    @BeforeAll
    void startPluginAndDockerd() throws Exception {
        skipReason = whyNotRunnable();
        if (skipReason != null) {
            System.err.println(getClass().getSimpleName() + " skipped: " + skipReason);
            return;
        }
        run = E2e.mountRun(driver);
        plugin = PluginProcess.start(pluginName, driver, run.resolve("plugin.log"), List.of());
        dockerd = new Dockerd(run, E2e.API_SOCKET, pluginName, pluginName);
        dockerd.launch();
        dockerd.awaitReady(60);
        dropConnectionsToTheOldDaemon(); // another scenario's dockerd may have served this socket before
        BusyboxImage.importInto(dockerd, run, busybox);
    }

    /** Each step is reported as skipped, with the reason (surefire drops a reason given in @BeforeAll). */
    @BeforeEach
    void runnable() {
        assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    void stopEverything() {
        if (run == null) return;
        leaks.addAll(E2e.stopAll(run, dockerd, plugin));
        assertEquals(List.of(), leaks, "left behind after dockerd and the plugin stopped");
    }

    private GenericContainer<?> busyboxContainer(String image) {
        return new GenericContainer<>(DockerImageName.parse(image))
                .withCommand("sleep", "300")
                .withNetworkMode("none")
                .withImagePullPolicy(name -> false); // no registry here: never pull
    }

    @Test
    @Order(1)
    void dockerdRunsOnThePluginWithItsHomeUnderTheDataRoot() {
        String info = dockerd.dockerOk("info");
        assertTrue(info.contains("Storage Driver: " + pluginName), info);
        assertTrue(info.contains("Strata Driver: " + driver), info);
        assertTrue(plugin.logText().contains("Init: serving " + driver + " in " + home().resolve(driver)), plugin.logText());
        assertTrue(Files.isDirectory(home().resolve(driver)));
    }

    @Test
    @Order(2)
    void aContainersWriteShowsInDockerDiffAndSurvivesDockerCommit() throws Exception {
        try (GenericContainer<?> c = busyboxContainer(busybox)) {
            c.start();
            Container.ExecResult w = c.execInContainer("sh", "-c", "echo '" + CONTENT + "' > " + FILE + " && cat " + FILE + " && id -u");
            assertEquals(0, w.getExitCode(), w.getStderr());
            assertEquals(CONTENT + "\n0\n", w.getStdout());

            String diff = dockerd.dockerOk("diff", c.getContainerId());
            assertTrue(diff.lines().anyMatch(l -> l.equals("A " + FILE)), diff);

            dockerd.dockerOk("commit", c.getContainerId(), committed);
        }
        String log = plugin.logText();
        assertTrue(log.contains("/GraphDriver.Diff 200"), "commit read the layer through Diff");
        assertTrue(log.lines().filter(l -> l.contains("/GraphDriver.ApplyDiff 200")).count() >= 2, "import and commit wrote through ApplyDiff");

        try (GenericContainer<?> c = busyboxContainer(committed)) {
            c.start();
            Container.ExecResult r = c.execInContainer("cat", FILE);
            assertEquals(0, r.getExitCode(), r.getStderr());
            assertEquals(CONTENT + "\n", r.getStdout());
        }
    }

    @Test
    @Order(3)
    void imagesSurviveADaemonRestartWithThePluginComingUpAfterDockerd() throws Exception {
        dockerd.stop();
        assertTrue(plugin.logText().contains("/GraphDriver.Cleanup 200"), "dockerd's shutdown called Cleanup");
        assertEquals(143, plugin.stop(), "the plugin ends on SIGTERM");
        assertTrue(plugin.logText().contains("stopped serving on " + plugin.socket + " after the driver's cleanup"), plugin.logText());
        assertTrue(MountInfo.under(home()).isEmpty(), () -> "mounts left under " + home() + ": " + MountInfo.under(home()));

        // As when systemd starts both at once: dockerd first; it retries the plugin lookup (1, 2, 4, 8 s).
        dockerd.launch();
        Host.sleep(2000);
        plugin = PluginProcess.start(pluginName, driver, run.resolve("plugin.log"), List.of());
        dockerd.awaitReady(60);
        dropConnectionsToTheOldDaemon();

        String images = dockerd.dockerOk("images", "--format", "{{.Repository}}:{{.Tag}}");
        assertTrue(images.lines().toList().containsAll(List.of(busybox, committed)), images);
        try (GenericContainer<?> c = busyboxContainer(committed)) {
            c.start();
            assertEquals(CONTENT + "\n", c.execInContainer("cat", FILE).getStdout());
        }
    }

    /**
     * Testcontainers' client (one per JVM) pools its connections to the daemon; those to a daemon that stopped fail
     * with "Broken pipe" when reused. A failed request discards its connection, so ping until the pool is clean.
     */
    private static void dropConnectionsToTheOldDaemon() {
        var client = DockerClientFactory.instance().client();
        int good = 0;
        for (int i = 0; i < 50 && good < 5; i++) {
            try {
                client.pingCmd().exec();
                good++;
            } catch (RuntimeException stale) {
                good = 0;
            }
        }
        assertEquals(5, good, "Testcontainers cannot reach the restarted dockerd");
    }

    @Test
    @Order(4)
    void removingContainersAndImagesRemovesEveryLayer() {
        String ids = dockerd.dockerOk("ps", "-aq");
        if (!ids.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f"));
            rm.addAll(Arrays.asList(ids.split("\\s+")));
            dockerd.dockerOk(rm.toArray(String[]::new));
        }
        dockerd.dockerOk("rmi", committed, busybox);
        assertEquals("", dockerd.dockerOk("images", "-aq"));
        assertTrue(plugin.logText().contains("/GraphDriver.Remove 200"));

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[]{"--root", home().toString(), "-s", driver, "--json", "layers"},
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertEquals("[]", out.toString().replaceAll("\\s", ""), "layers left in Strata's root " + home());
        assertTrue(MountInfo.under(home()).isEmpty(), () -> "mounts left under " + home() + ": " + MountInfo.under(home()));
    }
}
