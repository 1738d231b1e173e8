package dev.strata.conformance;

import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.IdMaps;
import dev.strata.api.NotSupportedException;
import dev.strata.api.StorageDriver;
import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarReader;
import dev.strata.archive.tar.TarWriter;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.UserNamespace;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.strata.conformance.Owned.owned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layers made with id maps (Docker's {@code --userns-remap}, containerd's {@code remap-ids}, pods with
 * {@code hostUsers: false}), whichever way the driver shows them (idmapped lowers, a chown copy): what the container
 * sees, where its writes land, what its diff carries, and that nothing stays mounted. A driver that cannot show
 * layers under maps here is skipped with its reason.
 */
public interface IdMapTests extends DriverUnderTest {
    IdMaps MAP = IdMaps.parse("0:100000:65536", "0:100000:65536");
    int ROOT = 100000;

    /**
     * An image of two layers, every owner a container id: root's files, a user's (1000), one no map here covers
     * (70000), setuid and setgid bits, a symlink and a directory.
     */
    private String image(StorageDriver d) {
        String base = Layers.id("idmap-base"), top = Layers.id("idmap-top");
        d.create(base, null, CreateOptions.NONE);
        d.applyDiff(base, null, tar(Map.of(
                "etc/", new int[]{0, 0, 0755}, "etc/passwd", new int[]{0, 0, 0644}, "home/", new int[]{0, 0, 0755},
                "home/user/", new int[]{1000, 1000, 0700}, "home/user/notes", new int[]{1000, 1000, 0600},
                "bin/", new int[]{0, 0, 0755}, "bin/su", new int[]{0, 0, 04755}, "bin/wall", new int[]{0, 5, 02755},
                "far", new int[]{70000, 70000, 0644}), Map.of("bin/sh", "su")));
        d.create(top, base, CreateOptions.NONE);
        d.applyDiff(top, base, tar(Map.of("etc/", new int[]{0, 0, 0755}, "etc/hosts", new int[]{0, 0, 0644},
                "home/", new int[]{0, 0, 0755}, "home/user/", new int[]{1000, 1000, 0700},
                "home/user/later", new int[]{1000, 1000, 0644}), Map.of()));
        return top;
    }

    /** The container's layer on {@code image}, read-write under {@link #MAP}, or the test skipped. */
    private static String container(StorageDriver d, String image) {
        String c = Layers.id("idmap-c");
        createMapped(d, c, image, MAP, true);
        return c;
    }

    /** createReadWrite with maps, or the test skipped with the driver's reason. */
    private static void createMapped(StorageDriver d, String id, String parent, IdMaps maps, boolean readWrite) {
        try {
            if (readWrite) d.createReadWrite(id, parent, CreateOptions.of(maps));
            else d.create(id, parent, CreateOptions.of(maps));
        } catch (NotSupportedException e) {
            Assumptions.abort(d.name() + " shows no layers under id maps here: " + e.reason());
        }
    }

    @Test
    @Order(900)
    @DisplayName("idmap: ViewOwnership")
    default void viewOwnership() {
        StorageDriver d = driver();
        String image = image(d), c = container(d, image);
        assertEquals(MAP, d.idMaps(c));
        assertEquals(IdMaps.NONE, d.idMaps(image));
        Layers.mounted(d, c, root -> {
            Owned.check(root,
                    owned("", ROOT, ROOT, "the root of the container's view"),
                    owned("etc/passwd", ROOT, ROOT),
                    owned("etc/hosts", ROOT, ROOT, "a file of the upper image layer"),
                    owned("home/user", ROOT + 1000, ROOT + 1000),
                    owned("home/user/later", ROOT + 1000, ROOT + 1000),
                    owned("bin/sh", ROOT, ROOT, "a symlink"),
                    owned("bin/wall", ROOT, ROOT + 5));
            assertEquals(04755, mode(root.resolve("bin/su")), "setuid survives the mapping");
            assertEquals(02755, mode(root.resolve("bin/wall")), "setgid survives the mapping");
            assertEquals("notes", Files.readString(root.resolve("home/user/notes")));
            return null;
        });
        // the image keeps its own ids, for every other container
        Owned.check(d, image, owned("etc/passwd", 0, 0), owned("home/user/notes", 1000, 1000));
        Map<String, String> meta = d.metadata(c);
        assertEquals("0:100000:65536", meta.get("UidMaps"), () -> "metadata " + meta);
        assertEquals("0:100000:65536", meta.get("GidMaps"), () -> "metadata " + meta);
        assertTrue(!meta.getOrDefault("IdMapMethod", "").isBlank(), () -> "which way the layer is shown under its maps: " + meta);
        assertTrue(!d.metadata(image).containsKey("IdMapMethod"), () -> "an image layer without maps: " + d.metadata(image));
    }

    @Test
    @Order(901)
    @DisplayName("idmap: UnmappedIdsShowAsOverflow")
    default void unmappedIdsShowAsOverflow() {
        StorageDriver d = driver();
        String image = image(d), c = Layers.id("idmap-c");
        // a map that covers root and nothing past 999: 1000 and 70000 are outside it
        IdMaps narrow = IdMaps.parse("0:200000:1000", "0:200000:1000");
        createMapped(d, c, image, narrow, true);
        // Only looked at: through an idmapped mount the kernel lets nobody, root included, open or delete a file whose
        // owner is outside the map (EACCES, EOVERFLOW), as inside the container.
        Owned.check(d, c,
                owned("etc/passwd", 200000, 200000),
                owned("home/user", IdMaps.OVERFLOW_ID, IdMaps.OVERFLOW_ID),
                owned("far", IdMaps.OVERFLOW_ID, IdMaps.OVERFLOW_ID),
                owned("bin/wall", 200000, 200000 + 5));
    }

    @Test
    @Order(902)
    @DisplayName("idmap: WritesLandAsMappedIds")
    default void writesLandAsMappedIds() {
        StorageDriver d = driver();
        String image = image(d), c = container(d, image);
        writeAsContainer(d, c);
        // seen again after a put and a fresh mount, and by a second instance of the driver (a restart)
        for (StorageDriver view : List.of(d, reopen())) {
            Layers.mounted(view, c, root -> {
                Owned.check(root,
                        owned("etc/new", ROOT, ROOT, "a file container root made"),
                        owned("home/user/mine", ROOT + 1000, ROOT + 1000),
                        owned("etc/passwd", ROOT, ROOT, "a copied-up file keeps its mapped owner"),
                        owned("etc/hosts", ROOT + 7, ROOT + 7));
                assertEquals("changed", Files.readString(root.resolve("etc/passwd")));
                return null;
            });
        }
        Layers.mounted(d, image, root -> {
            assertEquals("passwd", Files.readString(root.resolve("etc/passwd")), "the image is untouched");
            Owned.check(root, owned("etc/hosts", 0, 0));
            return null;
        });
    }

    /** What a process of the container does: create as its root, write to an image file, chown, create as a user. */
    private static void writeAsContainer(StorageDriver d, String c) {
        Layers.mounted(d, c, root -> {
            Path created = root.resolve("etc/new");
            Files.writeString(created, "new");
            chown(created, ROOT, ROOT); // a file made by container root is owned by its host id
            Files.writeString(root.resolve("etc/passwd"), "changed");
            chown(root.resolve("etc/hosts"), ROOT + 7, ROOT + 7);
            Path mine = root.resolve("home/user/mine");
            Files.writeString(mine, "mine");
            chown(mine, ROOT + 1000, ROOT + 1000);
            Files.delete(root.resolve("home/user/notes"));
            return null;
        });
    }

    @Test
    @Order(903)
    @DisplayName("idmap: DiffCarriesContainerIds")
    default void diffCarriesContainerIds() throws IOException {
        StorageDriver d = driver();
        String image = image(d), c = container(d, image);
        writeAsContainer(d, c);
        Map<String, List<Integer>> owners;
        try (InputStream in = d.diff(c, image)) {
            owners = owners(in);
        }
        Owned.check(owners, owned("etc/new", 0, 0), owned("etc/passwd", 0, 0), owned("etc/hosts", 7, 7),
                owned("home/user/mine", 1000, 1000));
        assertTrue(owners.containsKey("home/user/.wh.notes"), () -> "the deletion is a whiteout: " + owners.keySet());
        for (String name : owners.keySet()) {
            assertTrue(!name.startsWith("bin") && !name.equals("far"), () -> name + " did not change, yet is in the diff");
        }
        // the changes: what changed, and nothing that only the mapping made look different
        List<String> changed = d.changes(c, image).stream().map(Change::path).toList();
        assertTrue(changed.containsAll(List.of("/etc/new", "/etc/passwd", "/etc/hosts", "/home/user/mine", "/home/user/notes")), () -> "changes " + changed);
        assertTrue(changed.stream().noneMatch(p -> p.startsWith("/bin") || p.equals("/far")), () -> "changes " + changed);
        // applied to a layer without maps, as docker commit does, it reads back with the container's ids
        String committed = Layers.id("idmap-committed");
        d.create(committed, image, CreateOptions.NONE);
        try (InputStream in = d.diff(c, image)) {
            d.applyDiff(committed, image, in);
        }
        Owned.check(d, committed, owned("etc/new", 0, 0), owned("home/user/mine", 1000, 1000));
    }

    @Test
    @Order(904)
    @DisplayName("idmap: StackedLayersUnderOneMap")
    default void stackedLayersUnderOneMap() throws IOException {
        // dockerd's init layer: made under the map, written with host ids; the container's layer is its child
        StorageDriver d = driver();
        String image = image(d), init = Layers.id("idmap-init"), c = Layers.id("idmap-c");
        createMapped(d, init, image, MAP, true);
        Layers.mounted(d, init, root -> {
            Path hosts = root.resolve("etc/resolv.conf");
            Files.writeString(hosts, "nameserver 10.0.0.1\n");
            chown(hosts, ROOT, ROOT);
            return null;
        });
        createMapped(d, c, init, MAP, true);
        Owned.check(d, c, owned("etc/resolv.conf", ROOT, ROOT, "the init layer's file, not remapped twice"),
                owned("etc/passwd", ROOT, ROOT));
        // a diff against the image layer reads the init layer's host ids as container ids too
        Map<String, List<Integer>> owners;
        try (InputStream in = d.diff(init, image)) {
            owners = owners(in);
        }
        Owned.check(owners, owned("etc/resolv.conf", 0, 0));
        // an unmapped child of a mapped layer shows it with container ids
        String plain = Layers.id("idmap-plain");
        d.create(plain, init, CreateOptions.NONE);
        Owned.check(d, plain, owned("etc/resolv.conf", 0, 0), owned("home/user/notes", 1000, 1000));
    }

    @Test
    @Order(905)
    @DisplayName("idmap: ApplyIntoAMappedLayer")
    default void applyIntoAMappedLayer() {
        StorageDriver d = driver();
        String image = image(d), c = Layers.id("idmap-c");
        createMapped(d, c, image, MAP, false);
        d.applyDiff(c, image, tar(Map.of("opt/", new int[]{0, 0, 0755}, "opt/tool", new int[]{1000, 1000, 04750}), Map.of()));
        Layers.mounted(d, c, root -> {
            Owned.check(root, owned("opt/tool", ROOT + 1000, ROOT + 1000, "the tar's container ids shown mapped"));
            assertEquals(04750, mode(root.resolve("opt/tool")));
            return null;
        });
        Map<String, List<Integer>> owners;
        try (InputStream in = d.diff(c, image)) {
            owners = owners(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Owned.check(owners, owned("opt/tool", 1000, 1000));
    }

    @Test
    @Order(906)
    @DisplayName("idmap: NoMountLeftBehind")
    default void noMountLeftBehind() {
        StorageDriver d = driver();
        String image = image(d), c = Layers.id("idmap-c");
        List<MountInfo> before = MountInfo.under(testRoot()); // not the machine's: other mounts come and go
        createMapped(d, c, image, MAP, true);
        for (int i = 0; i < 3; i++) {
            Path root = d.get(c, "");
            Owned.check(root, owned("etc/passwd", ROOT, ROOT));
            d.put(c);
        }
        d.get(c, "");
        d.get(c, "");
        d.remove(c); // mounted, twice: remove unmounts
        List<String> added = MountInfo.under(testRoot()).stream().filter(m -> !before.contains(m)).map(MountInfo::mountPoint).toList();
        assertEquals(List.of(), added, "mounts the mapped layer left");
        assertEquals(List.of(), userNamespaceHelpers(), "user-namespace helpers left");
        assertEquals(List.of(), userNamespaceFds(), "user-namespace descriptors left open (each keeps a namespace alive)");
    }

    @Test
    @Order(907)
    @DisplayName("idmap: KilledWhileMountedLeavesNothing")
    default void killedWhileMountedLeavesNothing() throws Exception {
        // A process that got a mapped layer is killed: its mount stays, as any get's does, until a cleanup; nothing
        // else it made for the view may outlive it (helpers, trees), and the layer shows the same afterwards.
        StorageDriver d = driver();
        String image = image(d), c = container(d, image);
        List<MountInfo> before = MountInfo.under(testRoot()); // not the machine's: other mounts come and go
        List<String> args = new java.util.ArrayList<>(List.of(driverName(), testRoot().toString(), c));
        args.addAll(driverOptions());
        long[] child = new long[1];
        ChildJvm.killWhen(GetUntilKilled.class, args, GetUntilKilled.MOUNTED, p -> {
            child[0] = p.pid();
            return null;
        });
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> orphans;
        while (!(orphans = userNamespaceHelpers(child[0], 1)).isEmpty() && System.nanoTime() < deadline) Thread.sleep(50);
        assertEquals(List.of(), orphans, "user-namespace helpers of the killed process");
        StorageDriver after = reopen();
        Owned.check(after, c, owned("etc/passwd", ROOT, ROOT), owned("home/user/notes", ROOT + 1000, ROOT + 1000));
        after.cleanup();
        List<String> added = MountInfo.under(testRoot()).stream().filter(m -> !before.contains(m)).map(MountInfo::mountPoint).toList();
        assertEquals(List.of(), added, "mounts left after the killed process's layer was cleaned up");
        assertEquals(List.of(), userNamespaceHelpers(), "user-namespace helpers left");
    }

    // ---- helpers

    /** Children of this JVM that are Strata's user-namespace helper, alive or not yet reaped. */
    private static List<String> userNamespaceHelpers() {
        return userNamespaceHelpers(ProcessHandle.current().pid());
    }

    /** Strata's user-namespace helpers whose parent is one of {@code parents}. */
    private static List<String> userNamespaceHelpers(long... parents) {
        java.util.Set<Long> wanted = java.util.Arrays.stream(parents).boxed().collect(java.util.stream.Collectors.toSet());
        return UserNamespace.helpers().stream().filter(h -> wanted.contains(h.parent())).map(Object::toString).toList();
    }

    /** This JVM's open descriptors of user namespaces ({@code user:[inode]}). */
    private static List<String> userNamespaceFds() {
        List<String> out = new java.util.ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("user:[")) out.add(fd.getFileName() + " -> " + target);
                } catch (IOException closed) {
                    // closed while we looked (the listing's own descriptor among them)
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static int mode(Path p) {
        try {
            return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void chown(Path p, int uid, int gid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    /** A tar of {@code entries} (name to uid, gid, mode; a trailing slash makes a directory) and symlinks. */
    private static InputStream tar(Map<String, int[]> entries, Map<String, String> symlinks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        for (Map.Entry<String, int[]> e : new TreeMap<>(entries).entrySet()) {
            TarHeader h = new TarHeader();
            h.name = e.getKey();
            h.uid = e.getValue()[0];
            h.gid = e.getValue()[1];
            h.mode = e.getValue()[2];
            h.mtimeNanos = 1_577_836_800_000_000_000L;
            boolean dir = e.getKey().endsWith("/");
            byte[] data = dir ? new byte[0] : e.getKey().substring(e.getKey().lastIndexOf('/') + 1).getBytes(StandardCharsets.UTF_8);
            h.type = dir ? TarHeader.DIRECTORY : TarHeader.REGULAR;
            h.size = data.length;
            w.writeHeader(h);
            w.write(data, 0, data.length);
        }
        for (Map.Entry<String, String> s : new TreeMap<>(symlinks).entrySet()) {
            TarHeader h = new TarHeader();
            h.name = s.getKey();
            h.type = TarHeader.SYMLINK;
            h.linkName = s.getValue();
            h.mode = 0777;
            w.writeHeader(h);
        }
        w.finish();
        return new ByteArrayInputStream(out.toByteArray());
    }

    /** Each entry of a tar, by name without a leading ./ or a trailing slash, with its uid and gid. */
    private static Map<String, List<Integer>> owners(InputStream tar) {
        Map<String, List<Integer>> out = new TreeMap<>();
        TarReader r = new TarReader(tar);
        try {
            TarHeader h;
            while ((h = r.next()) != null) {
                String n = h.name;
                if (n.startsWith("./")) n = n.substring(2);
                if (n.startsWith("/")) n = n.substring(1);
                if (n.endsWith("/")) n = n.substring(0, n.length() - 1);
                out.put(n, List.of((int) h.uid, (int) h.gid));
            }
        } finally {
            r.release();
        }
        return out;
    }
}
