package dev.strata.e2e;

import dev.strata.api.DriverRegistry;
import dev.strata.api.Support;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.UserNamespace;
import dev.strata.testsupport.Dockerd;
import dev.strata.testsupport.Host;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * dockerd 20.10 with {@code --userns-remap} on Strata's overlay plugin: dockerd sends its UIDMaps and GIDMaps at
 * Init, and every container layer is shown with the remapped ids through idmapped lowers, without a chown'ed copy
 * of the image. A container runs as root inside its user namespace, writes land in its layer as the remapped host
 * ids, {@code docker commit} carries container ids, and nothing is left mounted afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
class UsernsRemapDockerTest {
    static final int BASE = 100000;
    static final String DRIVER = "overlay";

    private final String pluginName = E2e.ID + "-remap";
    private final String busybox = "strata-e2e/busybox-remap:1";
    private final String committed = "strata-e2e/committed-remap:1";
    private Path run;
    private Dockerd dockerd;
    private PluginProcess plugin;
    private String skipReason;

    private String whyNotRunnable() {
        if (!Kernel.isRoot()) return "needs root: dockerd, mounts";
        if (Dockerd.DOCKERD == null || Dockerd.DOCKER == null) return "dockerd is not installed (Debian: apt-get install docker.io)";
        if (!Files.isExecutable(BusyboxImage.BUSYBOX)) return "/bin/busybox is missing (Debian: apt-get install busybox-static)";
        if (Host.which("unshare") == null) return "unshare (util-linux) is missing";
        try {
            if (Files.readAllLines(Path.of("/etc/passwd")).stream().noneMatch(l -> l.startsWith("nobody:"))
                    || Files.readAllLines(Path.of("/etc/group")).stream().noneMatch(l -> l.startsWith("nogroup:"))) {
                return "no user nobody or group nogroup for --userns-remap=nobody:nogroup (Debian has both)";
            }
        } catch (IOException e) {
            return "cannot read /etc/passwd or /etc/group: " + e;
        }
        var provider = DriverRegistry.load().require(DRIVER);
        Support s = provider.probe(E2e.BASE);
        if (!s.supported()) return DRIVER + " cannot run here: " + s.reason();
        Support ids = provider.idMapSupport(E2e.BASE);
        if (!ids.supported()) return "this kernel cannot idmap overlay's lowers: " + ids.reason();
        return null;
    }

    private Path home() {
        return dockerd.layerRoot(BASE, BASE).resolve(pluginName).resolve(DRIVER);
    }

    @BeforeAll
    void start() throws Exception {
        skipReason = whyNotRunnable();
        if (skipReason != null) {
            System.err.println(getClass().getSimpleName() + " skipped: " + skipReason);
            return;
        }
        run = E2e.mountRun("remap");
        // dockerd runs in a mount namespace of its own (see Dockerd.UsernsRemap): the plugin's mounts reach it
        // through this tmpfs, shared with that namespace's copy.
        Mounts.mount(null, run, null, Mounts.MS_SHARED, null);
        Path subuid = run.resolve("subuid"), subgid = run.resolve("subgid");
        // dockerd 20.10 reads both files by the user's name; the group is named too (Debian's nobody:nogroup), or
        // dockerd looks up a group called nobody
        Files.writeString(subuid, "nobody:" + BASE + ":65536\n");
        Files.writeString(subgid, "nobody:" + BASE + ":65536\n");
        plugin = PluginProcess.start(pluginName, DRIVER, run.resolve("plugin.log"), List.of());
        dockerd = new Dockerd(run, E2e.API_SOCKET, pluginName, pluginName)
                .withUsernsRemap(new Dockerd.UsernsRemap("nobody:nogroup", subuid, subgid));
        dockerd.launch();
        dockerd.awaitReady(60);
        BusyboxImage.importInto(dockerd, run, busybox);
    }

    @BeforeEach
    void runnable() {
        assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    void stop() {
        if (run == null) return;
        assertEquals(List.of(), E2e.stopAll(run, dockerd, plugin), "left behind after dockerd and the plugin stopped");
    }

    @Test
    @Order(1)
    void dockerdSendsItsMapsAndThePluginTakesThem() {
        String info = dockerd.dockerOk("info");
        assertTrue(info.contains("Storage Driver: " + pluginName), info);
        assertTrue(info.contains("Id Maps: idmapped lowers"), info);
        assertTrue(plugin.logText().contains("container layers under uids 0:" + BASE + ":65536 gids 0:" + BASE + ":65536"), plugin.logText());
    }

    @Test
    @Order(2)
    void aContainerRunsAsRootInItsNamespaceAndItsWritesLandAsTheRemappedIds() throws IOException {
        String out = dockerd.dockerOk("run", "--name", "remapped", "--network", "none", busybox, "sh", "-c",
                "cat /proc/self/uid_map; id -u; ls -ln /bin/busybox; echo data > /root/written; ls -ln /root/written");
        List<String> lines = out.lines().map(String::strip).toList();
        assertEquals(List.of("0", String.valueOf(BASE), "65536"), List.of(lines.get(0).split("\\s+")), out);
        assertEquals("0", lines.get(1), "root inside: " + out);
        assertTrue(lines.get(2).matches("-rwxr-xr-x\\s+1 0\\s+0 .*/bin/busybox"), "the image's files are root's inside: " + out);
        assertTrue(lines.get(3).matches("-rw-r--r--\\s+1 0\\s+0 .*/root/written"), out);

        // on the host, the file sits in the container layer's upper dir, owned by the remapped root
        Path written = upperOf("remapped").resolve("root/written");
        assertEquals(List.of(BASE, BASE), owner(written));
        // and the image layer keeps the image's own ids, for every map
        try (Stream<Path> layers = Files.list(home())) {
            Path busyboxFile = layers.map(l -> l.resolve("diff/bin/busybox")).filter(Files::exists).findFirst().orElseThrow();
            assertEquals(List.of(0, 0), owner(busyboxFile));
        }
        // docker inspect shows how the layer is shown under the map (the driver's metadata)
        assertEquals("idmapped lowers", dockerd.dockerOk("inspect", "--format", "{{.GraphDriver.Data.IdMapMethod}}", "remapped").strip());
        assertEquals("A /root/written", dockerd.dockerOk("diff", "remapped").lines().filter(l -> l.contains("written")).findFirst().orElse(""));
    }

    @Test
    @Order(3)
    void dockerCommitCarriesContainerIds() {
        dockerd.dockerOk("commit", "remapped", committed);
        String out = dockerd.dockerOk("run", "--rm", "--network", "none", committed, "sh", "-c", "ls -ln /root/written; cat /root/written");
        assertTrue(out.lines().findFirst().orElse("").matches("-rw-r--r--\\s+1 0\\s+0 .*/root/written"), out);
        assertTrue(out.contains("data"), out);
        // the committed layer is an image layer: on disk it holds the container ids the diff carried
        try (Stream<Path> layers = Files.list(home())) {
            List<Path> copies = layers.map(l -> l.resolve("diff/root/written")).filter(Files::exists).toList();
            assertTrue(copies.stream().anyMatch(p -> owner(p).equals(List.of(0, 0))), () -> "owners " + copies.stream().map(this::owner).toList());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Order(4)
    void removingEverythingLeavesNoLayerMountOrHelper() {
        dockerd.dockerOk("rm", "-f", "remapped");
        dockerd.dockerOk("rmi", committed, busybox);
        assertEquals("", dockerd.dockerOk("images", "-aq"));
        try (Stream<Path> left = Files.list(home())) {
            // layer directories; not l/ (short links), the kit's dot-dirs or backingFsBlockDev (the quota device node)
            List<String> layers = left.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".") && !n.equals("l")).toList();
            assertEquals(List.of(), layers);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertTrue(MountInfo.under(home()).isEmpty(), () -> "mounts left under " + home() + ": " + MountInfo.under(home()));
        assertEquals(List.of(), UserNamespace.helpers().stream().filter(h -> h.parent() == plugin.pid()).toList(), "user-namespace helpers of the plugin");
    }

    /** The upper dir of a container's layer, from what dockerd stored for it. */
    private Path upperOf(String container) {
        String mountId = dockerd.dockerOk("inspect", "--format", "{{.GraphDriver.Data.UpperDir}}", container);
        assertTrue(mountId.startsWith(home().toString()), mountId);
        return Path.of(mountId);
    }

    private List<Integer> owner(Path p) {
        try {
            return List.of((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                    (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
