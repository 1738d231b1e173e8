package dev.strata.driver.overlay;

import dev.strata.api.StorageDriver;
import dev.strata.testsupport.Dockerd;
import dev.strata.api.CreateOptions;
import dev.strata.kit.TestTar;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Xattrs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Both directions against a real dockerd 20.10 with its overlay2 driver:
 * <ol>
 *   <li>Strata opens dockerd's {@code <data-root>/overlay2}, finds the layers of an imported busybox image and of a
 *   committed container (whiteout and opaque dir made by the kernel under dockerd), and mounts and reads them.</li>
 *   <li>Strata replaces a created container's read-write layer with one of its own making (same id, parent the
 *   container's init layer, which dockerd made): dockerd then starts the container on Strata's layer (its lower
 *   file, link and short link) and sees Strata's file, whiteout and opaque dir; {@code docker commit} diffs
 *   Strata's upper dir with dockerd's own native diff, and a container of that image sees the same.</li>
 * </ol>
 */
class DockerInteropTest {
    @TempDir
    Path tmp;

    @Test
    void dockerLayersReadByStrataAndStrataLayersRunByDocker() throws Exception {
        assumeTrue(Dockerd.DOCKERD != null && Files.isExecutable(Dockerd.DOCKERD), "dockerd not installed (Debian docker.io)");
        assumeTrue(Dockerd.DOCKER != null, "docker CLI not installed");
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "/bin/busybox not installed (busybox-static)");
        try (ScratchFs fs = ScratchFs.mount(tmp)) {
            Path rootfsTar = busyboxRootfs(fs.root);
            Path dir = Files.createDirectories(fs.root.resolve("docker"));
            try (Dockerd dockerd = new Dockerd(dir, dir.resolve("docker.sock"), "overlay2", "strata-overlay-interop-" + ProcessHandle.current().pid())) {
                dockerd.launch();
                dockerd.awaitReady(60);
                dockerd.dockerOk("import", rootfsTar.toString(), "strata-busybox:1");
                dockerd.dockerOk("run", "--network", "none", "--name", "c1", "strata-busybox:1", "sh", "-c",
                        "echo hello > /hello; rm /bin/ls; rm -r /opt; mkdir /opt; echo new > /opt/new");
                dockerd.dockerOk("commit", "c1", "strata-busybox:2");
                dockerd.dockerOk("rm", "c1");
                String upper = dockerd.dockerOk("inspect", "strata-busybox:2", "--format", "{{.GraphDriver.Data.UpperDir}}");
                String lower = dockerd.dockerOk("inspect", "strata-busybox:2", "--format", "{{.GraphDriver.Data.LowerDir}}");
                Path home = dockerd.dataRoot.resolve("overlay2");
                String top = Path.of(upper).getParent().getFileName().toString();
                String base = Path.of(lower).getParent().getFileName().toString();

                StorageDriver strata = ScratchFs.open(home);
                try {
                    readsDockersLayers(strata, home, top, base, upper, lower);
                    dockerRunsStrataLayer(strata, dockerd, home);
                    nativeDiffOfDockersLayer(strata, top, base);
                    dockerRunsAStrataAppliedLayer(strata, dockerd, home);
                    cleanupLeavesDockersMountsAlone(strata, dockerd, top);
                } finally {
                    strata.cleanup();
                }
                dockerd.dockerOk("rm", "-f", "c2");
            }
        }
    }

    private void readsDockersLayers(StorageDriver strata, Path home, String top, String base, String upper, String lower) throws Exception {
        assertTrue(strata.exists(top) && strata.exists(base));
        assertEquals(base, strata.parent(top));
        assertNull(strata.parent(base));
        assertTrue(strata.layers().containsAll(List.of(top, base)));
        Map<String, String> meta = strata.metadata(top);
        assertEquals(upper, meta.get("UpperDir"));
        assertEquals(lower, meta.get("LowerDir"), "LowerDir resolved through dockerd's l/ links, as docker inspect shows it");

        // dockerd's on-disk whiteout formats, read as they are
        assertTrue(PosixFiles.lstat(home.resolve(top).resolve("diff/bin/ls")).isWhiteout());
        assertArrayEquals("y".getBytes(), Xattrs.get(home.resolve(top).resolve("diff/opt"), "trusted.overlay.opaque"));

        Path root = strata.get(top, "");
        try {
            assertEquals("hello\n", Files.readString(root.resolve("hello")));
            assertFalse(Files.exists(root.resolve("bin/ls"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "dockerd's whiteout hides ls");
            assertTrue(Files.isSymbolicLink(root.resolve("bin/sh")));
            assertEquals(List.of("new"), Files.list(root.resolve("opt")).map(p -> p.getFileName().toString()).toList(),
                    "dockerd's opaque dir hides the lower /opt");
            assertEquals("hi\n", Files.readString(root.resolve("etc/motd")));
        } finally {
            strata.put(top);
        }
        Path baseRoot = strata.get(base, "");
        assertEquals(home.resolve(base).resolve("diff"), baseRoot, "a base layer is its diff dir, as in moby");
        assertTrue(Files.exists(baseRoot.resolve("opt/a")));
        strata.put(base);
    }

    private void dockerRunsStrataLayer(StorageDriver strata, Dockerd dockerd, Path home) throws Exception {
        dockerd.dockerOk("create", "--name", "c2", "--network", "none", "strata-busybox:2", "sh", "-c",
                "cat /strata.txt; ls /opt; ls /bin/cat 2>/dev/null || echo cat-gone");
        String rwUpper = dockerd.dockerOk("inspect", "c2", "--format", "{{.GraphDriver.Data.UpperDir}}");
        String rw = Path.of(rwUpper).getParent().getFileName().toString();
        String init = rw + "-init";
        assertEquals(init, strata.parent(rw));

        // Replace dockerd's read-write layer with one Strata makes on dockerd's init layer.
        strata.remove(rw);
        assertFalse(Files.exists(home.resolve(rw)));
        strata.createReadWrite(rw, init, CreateOptions.NONE);
        String initLink = Files.readString(home.resolve(init).resolve("link"));
        assertTrue(Files.readString(home.resolve(rw).resolve("lower")).startsWith("l/" + initLink + ":"));
        Path root = strata.get(rw, "");
        try {
            Files.writeString(root.resolve("strata.txt"), "from strata\n");
            Files.delete(root.resolve("bin/cat"));
            try (var s = Files.list(root.resolve("opt"))) {
                for (Path p : s.toList()) Files.delete(p);
            }
            Files.delete(root.resolve("opt"));
            Files.createDirectory(root.resolve("opt"));
            Files.writeString(root.resolve("opt/strata"), "x");
        } finally {
            strata.put(rw);
        }
        assertTrue(PosixFiles.lstat(home.resolve(rw).resolve("diff/bin/cat")).isWhiteout());

        String out = dockerd.dockerOk("start", "-a", "c2");
        assertEquals(List.of("from strata", "strata", "cat-gone"), out.lines().toList(),
                "dockerd's overlay2 mounted Strata's layer: " + out);

        dockerd.dockerOk("commit", "c2", "strata-busybox:3");
        String out3 = dockerd.dockerOk("run", "--rm", "--network", "none", "strata-busybox:3", "sh", "-c",
                "cat /strata.txt; ls /opt; ls /bin/cat 2>/dev/null || echo cat-gone");
        assertEquals(List.of("from strata", "strata", "cat-gone"), out3.lines().toList(),
                "dockerd's native diff of Strata's upper dir keeps its whiteout and opaque dir: " + out3);
    }

    /** Strata's native diff of dockerd's layer: the kernel-made whiteout and opaque dir come out as OCI entries. */
    private void nativeDiffOfDockersLayer(StorageDriver strata, String top, String base) throws Exception {
        List<String> names = NativeDiffTest.entryNames(strata.diff(top, base));
        assertTrue(names.containsAll(List.of("hello", "bin/.wh.ls", "opt/.wh..wh..opq", "opt/new")), names.toString());
        List<dev.strata.api.Change> changes = strata.changes(top, base);
        assertTrue(changes.contains(new dev.strata.api.Change("/bin/ls", dev.strata.api.Change.Kind.DELETE)), changes.toString());
        assertTrue(changes.contains(new dev.strata.api.Change("/hello", dev.strata.api.Change.Kind.ADD)), changes.toString());
    }

    /** A container whose read-write layer Strata filled by native applyDiff (OCI whiteouts in, overlay ones on disk). */
    private void dockerRunsAStrataAppliedLayer(StorageDriver strata, Dockerd dockerd, Path home) throws Exception {
        dockerd.dockerOk("create", "--name", "c3", "--network", "none", "strata-busybox:2", "sh", "-c",
                "cat /applied.txt; ls /opt; ls /bin/echo 2>/dev/null || echo echo-gone");
        String rw = Path.of(dockerd.dockerOk("inspect", "c3", "--format", "{{.GraphDriver.Data.UpperDir}}")).getParent().getFileName().toString();
        strata.remove(rw);
        strata.createReadWrite(rw, rw + "-init", CreateOptions.NONE);
        strata.applyDiff(rw, rw + "-init", new TestTar().file("applied.txt", "applied by strata\n")
                .dir("bin").file("bin/.wh.echo", "").dir("opt").file("opt/.wh..wh..opq", "").file("opt/applied", "").stream());
        assertTrue(PosixFiles.lstat(home.resolve(rw).resolve("diff/bin/echo")).isWhiteout());
        String out = dockerd.dockerOk("start", "-a", "c3");
        assertEquals(List.of("applied by strata", "applied", "echo-gone"), out.lines().toList(), out);
        dockerd.dockerOk("rm", "c3");
    }

    /** Strata's cleanup unmounts what Strata mounted, not a running container's rootfs that dockerd mounted. */
    private void cleanupLeavesDockersMountsAlone(StorageDriver strata, Dockerd dockerd, String top) throws Exception {
        dockerd.dockerOk("run", "-d", "--name", "c4", "--network", "none", "strata-busybox:2", "busybox", "sleep", "60");
        Path dockersMount = Path.of(dockerd.dockerOk("inspect", "c4", "--format", "{{.GraphDriver.Data.MergedDir}}"));
        Path ours = strata.get(top, "");
        strata.cleanup();
        assertFalse(dev.strata.nativeio.MountInfo.isMountPoint(ours), "Strata's own mount is gone");
        assertTrue(dev.strata.nativeio.MountInfo.isMountPoint(dockersMount), "dockerd's container mount stays");
        dockerd.dockerOk("rm", "-f", "c4");
    }

    /** A rootfs tar of busybox-static: bin/busybox with a few applet links, /opt/a and /etc/motd. */
    private static Path busyboxRootfs(Path dir) throws Exception {
        Path rootfs = dir.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.createDirectories(rootfs.resolve("opt"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "ls", "cat", "echo", "rm", "mkdir")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.writeString(rootfs.resolve("opt/a"), "lower-a\n");
        Files.writeString(rootfs.resolve("etc/motd"), "hi\n");
        Path tar = dir.resolve("rootfs.tar");
        Process p = new ProcessBuilder("tar", "-C", rootfs.toString(), "-cf", tar.toString(), ".").inheritIO().start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "tar failed");
        return tar;
    }
}
