package dev.strata.nativeio;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * User namespaces made through a cloned helper, idmapped detached trees, and an overlay stacked on them by
 * descriptor, against this kernel on a tmpfs of the test's own (tmpfs can be idmapped from Linux 6.3).
 */
class IdmappedMountTest {
    static final String MAP = "0 100000 65536\n";

    @TempDir
    Path tmp;
    Path fs;

    @BeforeEach
    void mountScratch() {
        assumeTrue(Kernel.isRoot(), "needs root to mount and to write a user namespace's maps (uid " + Kernel.euid() + ")");
        fs = tmp.resolve("fs");
        try {
            Files.createDirectory(fs);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        Mounts.mount("strata-test", fs, "tmpfs", 0, "size=64m");
    }

    @AfterEach
    void unmountScratch() {
        if (fs != null) Mounts.unmountAllUnder(tmp);
        assertTrue(MountInfo.under(tmp).isEmpty(), "no mount left under " + tmp);
        assertEquals(List.of(), helpers(), "no user-namespace helper left");
    }

    /** Children of this JVM named as the helper, alive or zombie. */
    static List<UserNamespace.Helper> helpers() {
        long self = ProcessHandle.current().pid();
        return UserNamespace.helpers().stream().filter(h -> h.parent() == self).toList();
    }

    static int uid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    static int gid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void aNamespaceHasTheMapsItWasGivenAndNoHelperOutlivesItsCreation() throws Exception {
        try (UserNamespace ns = UserNamespace.create(MAP, "0 200000 1000\n")) {
            assertTrue(ns.fd() > 2);
            // the namespace's own view of its maps, through the descriptor: the kernel's canonical form
            assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + ns.fd())).toString().startsWith("user:["));
            assertEquals(List.of(), helpers());
        }
    }

    @Test
    void aMapTheKernelRefusesIsAnErrorThatQuotesItAndLeavesNoHelper() {
        // overlapping ranges
        SyscallException e = assertThrows(SyscallException.class, () -> UserNamespace.create("0 100000 10\n5 200000 10\n", MAP));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("uid_map") && e.getMessage().contains("0 100000 10,5 200000 10"), e.getMessage());
        assertEquals(List.of(), helpers());
    }

    @Test
    void anIdmappedTreeShowsMappedOwnersAndTheOverflowIdForUnmappedOnes() throws Exception {
        Path lower = Files.createDirectories(fs.resolve("lower"));
        Files.writeString(lower.resolve("root-owned"), "r");
        Files.writeString(lower.resolve("user-owned"), "u");
        Files.setAttribute(lower.resolve("user-owned"), "unix:uid", 1000);
        Files.setAttribute(lower.resolve("user-owned"), "unix:gid", 1000);
        Files.writeString(lower.resolve("unmapped"), "x");
        Files.setAttribute(lower.resolve("unmapped"), "unix:uid", 70000);
        MountTree tree;
        try (UserNamespace ns = UserNamespace.create(MAP, MAP)) {
            tree = MountTree.cloneOf(lower).idmap(ns);
        }
        // the namespace descriptor is closed: the mount holds the namespace now
        try (tree) {
            Path v = tree.path();
            assertEquals(100000, uid(v.resolve("root-owned")));
            assertEquals(100000, gid(v.resolve("root-owned")));
            assertEquals(101000, uid(v.resolve("user-owned")));
            assertEquals(65534, uid(v.resolve("unmapped")), "an id the map does not cover shows as the overflow uid");
            // a chown through the tree to host uid 100005 lands as 5 on disk
            Files.setAttribute(v.resolve("root-owned"), "unix:uid", 100005);
            assertEquals(5, uid(lower.resolve("root-owned")));
            // and host root, which the map does not cover, cannot create files through it
            java.nio.file.FileSystemException refused = assertThrows(java.nio.file.FileSystemException.class,
                    () -> Files.writeString(v.resolve("new"), "n"));
            assertTrue(refused.getMessage().contains("Value too large"), refused.getMessage());
            assertFalse(MountInfo.all().stream().anyMatch(m -> m.mountPoint().startsWith(fs.toString() + "/")), "a detached tree is in no mount table");
        }
        assertEquals(1000, uid(lower.resolve("user-owned")), "the files themselves keep their ids");
    }

    @Test
    void anOverlayStacksOnFiveHundredIdmappedLowersNamedThroughTheTreesDescriptor() throws Exception {
        assumeTrue(Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        assumeTrue(Kernel.atLeast(6, 8), "fsconfig lowerdir+ is in Linux 6.8 and later; this is " + Kernel.release());
        Path layers = Files.createDirectories(fs.resolve("layers"));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            Path l = Files.createDirectories(layers.resolve("l" + i));
            Files.writeString(l.resolve("f" + i), Integer.toString(i));
            names.add("l" + i);
        }
        Path upper = Files.createDirectories(fs.resolve("upper"));
        Path work = Files.createDirectories(fs.resolve("work"));
        Path merged = Files.createDirectories(fs.resolve("merged"));
        Files.setAttribute(upper, "unix:uid", 100000);
        try (UserNamespace ns = UserNamespace.create(MAP, MAP);
             MountTree tree = MountTree.cloneOf(layers).idmap(ns);
             FsContext ctx = FsContext.open("overlay")) {
            List<String> lowers = new ArrayList<>();
            for (String n : names) lowers.add(tree.path().resolve(n).toString());
            ctx.setEach("lowerdir+", lowers);
            ctx.set("upperdir", upper.toString()).set("workdir", work.toString());
            ctx.mountAt(merged, 0);
        }
        try {
            assertEquals(100000, uid(merged), "the root is the upper's, owned by the mapped root");
            assertEquals(100000, uid(merged.resolve("f0")));
            assertEquals(100000, uid(merged.resolve("f499")));
            assertEquals("499", Files.readString(merged.resolve("f499")));
            // a copy-up keeps the mapped owner: the upper holds host ids
            Files.writeString(merged.resolve("f7"), "changed");
            assertEquals(100000, uid(upper.resolve("f7")));
            assertEquals(0, uid(layers.resolve("l7/f7")));
        } finally {
            Mounts.unmount(merged, 0);
        }
    }

    @Test
    void aDetachedOverlayIsUsableThroughItsDescriptorAndGoneWhenClosed() throws Exception {
        assumeTrue(Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        Path lower = Files.createDirectories(fs.resolve("lower"));
        Files.createDirectories(lower.resolve("a"));
        Files.createDirectories(lower.resolve("b"));
        Files.writeString(lower.resolve("b/f"), "x");
        try (UserNamespace ns = UserNamespace.create(MAP, MAP);
             MountTree tree = MountTree.cloneOf(lower).idmap(ns);
             FsContext ctx = FsContext.open("overlay")) {
            ctx.set("lowerdir", tree.path().resolve("a") + ":" + tree.path().resolve("b"));
            try (MountTree ovl = ctx.mountDetached("probe", FsContext.MOUNT_ATTR_RDONLY)) {
                assertEquals(100000, uid(ovl.path().resolve("f")));
            }
        }
        assertTrue(MountInfo.under(fs).stream().allMatch(m -> m.mountPoint().equals(fs.toString())));
    }

    @Test
    void theProbesAnswerPerFilesystemAndLeaveNothing() throws Exception {
        assumeTrue(Kernel.hasFilesystem("overlay"), "overlay not in /proc/filesystems");
        var tmpfs = IdmapProbe.idmappedMounts(fs.resolve("not-yet/made"));
        assertTrue(tmpfs.supported(), tmpfs.reason());
        assertEquals("tmpfs can be idmapped", tmpfs.reason());
        var lowers = IdmapProbe.overlayOnIdmappedLowers(fs);
        assertTrue(lowers.supported(), lowers.reason());
        assertEquals("overlay on idmapped tmpfs lowers", lowers.reason());
        // overlay itself cannot be idmapped (it has no FS_ALLOW_IDMAP): the answer says so with the kernel's errno
        Path a = Files.createDirectories(fs.resolve("a")), b = Files.createDirectories(fs.resolve("b"));
        Path merged = Files.createDirectories(fs.resolve("merged"));
        Mounts.mount("overlay", merged, "overlay", Mounts.MS_RDONLY, "lowerdir=" + a + ":" + b);
        try {
            var overlay = IdmapProbe.idmappedMounts(merged);
            assertFalse(overlay.supported());
            assertTrue(overlay.reason().startsWith("overlayfs cannot be idmapped by this kernel") && overlay.reason().contains("EINVAL"), overlay.reason());
        } finally {
            Mounts.unmount(merged, 0);
        }
        assertEquals(List.of(fs.toString()), MountInfo.under(fs).stream().map(MountInfo::mountPoint).toList());
        try (var left = Files.list(fs)) {
            assertEquals(List.of("a", "b", "merged"), left.map(p -> p.getFileName().toString()).sorted().toList(), "the probes wrote nothing");
        }
    }

    /** Makes namespaces in a loop until killed: the JVM the next test kills. */
    public static final class NamespaceLoop {
        public static void main(String[] args) {
            System.out.println("started");
            System.out.flush();
            while (true) {
                try (UserNamespace ns = UserNamespace.create(MAP, MAP)) {
                    if (ns.fd() < 0) return;
                }
            }
        }
    }

    @Test
    void aJvmKilledWhileMakingNamespacesLeavesNoHelper() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                NamespaceLoop.class.getName()).redirectErrorStream(true).start();
        try {
            assertEquals("started", new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine());
            Thread.sleep(500); // some hundreds of namespaces made
            assertTrue(p.isAlive());
        } finally {
            p.destroyForcibly(); // SIGKILL
            p.waitFor();
        }
        // A helper the JVM had not reaped is reparented and reaped by init; none may stay.
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<UserNamespace.Helper> left;
        while (!(left = orphansOf(p.pid())).isEmpty() && System.nanoTime() < deadline) Thread.sleep(50);
        assertEquals(List.of(), left);
    }

    /** Helpers of a dead process: still its children (not yet reparented) or init's (not yet reaped). */
    private static List<UserNamespace.Helper> orphansOf(long dead) {
        return UserNamespace.helpers().stream().filter(h -> h.parent() == dead || h.parent() == 1).toList();
    }
}
