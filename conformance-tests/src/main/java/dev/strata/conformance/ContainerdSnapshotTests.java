package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.LayerBusyException;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.PosixFiles;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.strata.conformance.Applier.all;
import static dev.strata.conformance.Applier.chown;
import static dev.strata.conformance.Applier.createDir;
import static dev.strata.conformance.Applier.createFile;
import static dev.strata.conformance.Applier.link;
import static dev.strata.conformance.Applier.removeAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * containerd's {@code snapshots/testsuite}, mapped onto this contract (moby's graphdriver semantics):
 * <ul>
 *   <li><b>Prepare(key, parent)</b> is {@code createReadWrite(key, parent)}; mounting it is {@code get}, and
 *       unmounting is {@code put}.</li>
 *   <li><b>Commit(name, key)</b> happens in place: after the last {@code put} the layer, under its own id, is
 *       the parent of the next one (this contract has no separate committed kind; moby itself stacks on
 *       read-write layers, e.g. a container's {@code -init} layer). Committing through a diff, as
 *       {@code docker commit} does, is covered by {@link WhiteoutRoundTripTests}.</li>
 *   <li><b>Stat</b> is {@code exists} + {@code parent}; <b>Walk</b> is {@code layers()}. Labels, Update and Walk
 *       filters have no counterpart and are not mapped.</li>
 *   <li><b>View(key, parent)</b> is an image layer made by {@code create(key, parent)} and read through
 *       {@code get}. The contract has no read-only mount ({@code get} takes no {@code ro}, as in moby), so
 *       containerd's ViewReadonly, which expects EROFS, becomes: what is written through a view reaches neither
 *       the layer it views nor a sibling view of it.</li>
 *   <li>Comparing with a flat directory uses {@link TreeDescription} (containerd's CheckDirectoryEqual: type,
 *       mode, owner, content, link targets, xattrs, hard-link groups; no times).</li>
 * </ul>
 */
public interface ContainerdSnapshotTests extends DriverUnderTest {
    @Test
    @Order(201)
    @DisplayName("containerd: Basic")
    default void basic() throws IOException {
        StorageDriver d = driver();
        Path flat = Files.createDirectories(testRoot().resolve("flat"));
        Applier initial = all(createFile("/foo", "foo\n", 0777), createDir("/a", 0755), createDir("/a/b", 0755),
                createDir("/a/b/c", 0755));
        Applier change = all(createFile("/bar", "bar\n", 0777), createFile("/foo", "bar\n", 0777), removeAll("/a/b"));

        d.createReadWrite("committed", null, CreateOptions.NONE);
        Layers.apply(d, "committed", initial);
        initial.apply(flat);
        assertTrue(d.exists("committed"), "exists(committed)");
        assertNull(d.parent("committed"), "parent of a base layer");

        d.createReadWrite("next", "committed", CreateOptions.NONE);
        Layers.assertLayerEquals(flat, d, "next", "a new layer on committed shows exactly the initial tree");
        Layers.apply(d, "next", change);
        change.apply(flat);
        assertEquals("committed", d.parent("next"), "parent(next)");
        assertEquals(java.util.Set.of("committed", "next"), java.util.Set.copyOf(d.layers()), "layers()");

        Layers.view(d, "nextnext", "next");
        Layers.assertLayerEquals(flat, d, "nextnext", "a view of next shows the initial tree plus the change");
        d.remove("nextnext");
        assertThrows(LayerBusyException.class, () -> d.remove("committed"), "removing a layer that has a child");
        assertTrue(d.exists("committed"), "a refused remove left the layer half removed");
        d.remove("next");
        d.remove("committed");
        assertEquals(java.util.List.of(), d.layers(), "layers() after removing everything");
    }

    @Test
    @Order(202)
    @DisplayName("containerd: Transitivity")
    default void transitivity() {
        StorageDriver d = driver();
        d.createReadWrite("A", null, CreateOptions.NONE);
        d.createReadWrite("B", "A", CreateOptions.NONE);
        assertEquals("A", d.parent("B"), "parent(B)");
        assertNull(d.parent(d.parent("B")), "parent(parent(B))");
    }

    @Test
    @Order(203)
    @DisplayName("containerd: FileFromLowerLayer")
    default void fileFromLowerLayer() throws IOException {
        Layers.checkSnapshots(driver(), testRoot(), "lower",
                all(createDir("/dir1", 0700), createFile("/dir1/f1", "Hello", 0644), createDir("dir2", 0700),
                        createFile("dir2/f2", "...", 0644)),
                all(createDir("/dir3", 0700), createFile("/dir3/f1", "Hello", 0644), removeAll("/dir1"),
                        link("dir2/f2", "dir3/f2"), removeAll("dir2/f2")));
    }

    @Test
    @Order(204)
    @DisplayName("containerd: DeletedFilesInChildSnapshot")
    default void deletedFilesInChild() throws IOException {
        Layers.checkSnapshots(driver(), testRoot(), "deleted",
                all(createFile("/foo", "foo\n", 0777), createFile("/foobar", "foobar\n", 0777)),
                removeAll("/foobar"),
                all());
    }

    @Test
    @Order(205)
    @DisplayName("containerd: RemoveIntermediateSnapshot")
    default void removeIntermediate() {
        StorageDriver d = driver();
        d.createReadWrite("base", null, CreateOptions.NONE);
        d.createReadWrite("intermediate", "base", CreateOptions.NONE);
        d.createReadWrite("top", "intermediate", CreateOptions.NONE);
        assertThrows(LayerBusyException.class, () -> d.remove("intermediate"), "removing a layer that has a child");
        assertTrue(d.exists("intermediate"), "a refused remove left the layer half removed");
        assertEquals("intermediate", d.parent("top"));
        d.remove("top");
        d.remove("intermediate");
        d.remove("base");
    }

    @Test
    @Order(206)
    @DisplayName("containerd: ViewReadonly (mapped: views are isolated)")
    default void viewReadonly() throws IOException {
        StorageDriver d = driver();
        Path flat = Files.createDirectories(testRoot().resolve("flat"));
        Applier content = all(createFile("/testfile-lower", "lower\n", 0644), createDir("/etc", 0755));
        d.createReadWrite("committed", null, CreateOptions.NONE);
        Layers.apply(d, "committed", content);
        content.apply(flat);
        Map<String, String> before = Layers.describe(d, "committed", true);
        Layers.view(d, "view", "committed");
        Layers.view(d, "sibling", "committed");
        Layers.assertLayerEquals(flat, d, "view", "a view shows the layer it views");
        Layers.apply(d, "view", all(createFile("/testfile", "testcontent", 0777), removeAll("/testfile-lower"),
                createFile("/etc/hosts", "x", 0644)));
        Layers.assertSameTree(before, Layers.describe(d, "committed", true), "writing through a view changed the layer it views");
        Layers.assertLayerEquals(flat, d, "sibling", "writing through a view changed a sibling view");
        d.remove("view");
        d.remove("sibling");
        d.remove("committed");
    }

    @Test
    @Order(207)
    @DisplayName("containerd: 128LayersMount")
    default void layers128() throws IOException {
        StorageDriver d = driver();
        Path flat = Files.createDirectories(testRoot().resolve("flat"));
        String parent = null;
        for (int i = 0; i < 128; i++) {
            Applier a = i == 0
                    ? all(createFile("/bottom", "way at the bottom\n", 0777), createFile("/overwriteme", "FIRST!\n", 0777),
                    createDir("/ADDHERE", 0755), createDir("/ONLYME", 0755), createFile("/ONLYME/bottom", "bye!\n", 0777))
                    : all(createFile("/overwriteme", i + " WAS HERE!\n", 0777),
                    createFile("/ADDHERE/file-" + i, "same\n", 0755), removeAll("/ONLYME"), createDir("/ONLYME", 0755),
                    createFile("/ONLYME/file-" + i, "only me!\n", 0777));
            String id = Layers.id("128-layer-" + i);
            d.createReadWrite(id, parent, CreateOptions.NONE);
            int layer = i;
            Layers.mounted(d, id, root -> {
                Layers.assertSameTree(TreeDescription.of(flat, false), TreeDescription.of(root, false),
                        "[layer " + layer + "] the new layer differs from the flat tree before the apply");
                a.apply(flat);
                a.apply(root);
                Layers.assertSameTree(TreeDescription.of(flat, false), TreeDescription.of(root, false),
                        "[layer " + layer + "] the layer differs from the flat tree after the apply");
                return null;
            });
            parent = id;
        }
        Layers.view(d, "fullview", parent);
        Layers.assertLayerEquals(flat, d, "fullview", "a view of the 128th layer differs from the flat tree");
    }

    @Test
    @Order(208)
    @DisplayName("containerd: HardlinksAcrossLayers")
    default void hardlinksAcrossLayers() throws IOException {
        Layers.checkSnapshots(driver(), testRoot(), "hardlinks",
                // a hard-link pair made inside the base layer must stay a pair seen from every child
                all(createDir("/dir2", 0755), createFile("/dir2/f2", "f2 content", 0644),
                        createFile("/dir2/pair-a", "pair", 0640), link("/dir2/pair-a", "/dir2/pair-b")),
                // a new name for a lower file, then the old name goes (containerd's MoveFileFromLowerLayer)
                all(createDir("/dir3", 0755), link("/dir2/f2", "/dir3/f2"), removeAll("/dir2/f2")),
                // a second name for a file of the layer below, both kept
                all(link("/dir3/f2", "/dir3/f2-again"), createFile("/dir3/f2", "rewritten", 0644)));
    }

    @Test
    @Order(209)
    @DisplayName("containerd: RootPermission")
    default void rootPermission() {
        StorageDriver d = driver();
        d.createReadWrite("preparing", null, CreateOptions.NONE);
        Layers.mounted(d, "preparing", root -> {
            assertEquals("0755", String.format("%04o", PosixFiles.statx(null, root.toString(), 0).permissions()), "mode of a new layer's root");
            return null;
        });
    }

    @Test
    @Order(210)
    @DisplayName("containerd: Chown")
    default void chownOnly() throws IOException {
        Layers.checkSnapshots(driver(), testRoot(), "chown",
                all(createDir("/opt", 0700), createDir("/opt/a", 0700), createDir("/opt/a/b", 0700),
                        createFile("/opt/a/b/file.txt", "hello", 0644)),
                all(chown("/opt", 1, 1), chown("/opt/a", 1, 1), chown("/opt/a/b", 1, 1), chown("/opt/a/b/file.txt", 1, 1)));
    }

    @Test
    @Order(211)
    @DisplayName("containerd: RemoveDirectoryInLowerLayer")
    default void removeDirectoryInLowerLayer() throws IOException {
        Layers.checkSnapshots(driver(), testRoot(), "opaque",
                all(createDir("/lib", 0700), createFile("/lib/hidden", "", 0644)),
                all(removeAll("/lib"), createDir("/lib", 0700), createFile("/lib/not-hidden", "", 0644)),
                createFile("/lib/newfile", "", 0644));
    }

    @Test
    @Order(212)
    @DisplayName("containerd: LayerFileUpdate")
    default void layerFileUpdate() throws IOException {
        Layers.checkSnapshots(driver(), testRoot(), "update",
                all(createDir("/etc", 0700), createFile("/etc/hosts", "mydomain 10.0.0.1", 0644),
                        createFile("/etc/profile", "PATH=/usr/bin", 0644)),
                all(createFile("/etc/hosts", "mydomain 10.0.0.2", 0644), createFile("/etc/profile", "PATH=/usr/bin", 0666),
                        createDir("/root", 0700), createFile("/root/.bashrc", "PATH=/usr/sbin:/usr/bin", 0644)));
    }

    @Test
    @Order(213)
    @DisplayName("containerd: DirectoryPermissionOnCommit")
    default void directoryPermissionOnCommit() throws IOException {
        Layers.checkSnapshots(driver(), testRoot(), "dirperm",
                all(createDir("/dir1", 0700), createDir("/dir2", 0700), createDir("/dir3", 0700), createDir("/dir4", 0700),
                        createFile("/dir4/f1", "...", 0644), createDir("/dir5", 0700), createFile("/dir5/f1", "...", 0644),
                        chown("/dir1", 1, 1), chown("/dir2", 1, 1), chown("/dir3", 1, 1), chown("/dir5", 1, 1),
                        chown("/dir5/f1", 1, 1)),
                all(chown("/dir2", 0, 0), removeAll("/dir3"), chown("/dir4", 1, 1), chown("/dir4/f1", 1, 1)),
                all(createDir("/dir3", 0700), chown("/dir3", 1, 1), removeAll("/dir5"), createDir("/dir5", 0700),
                        chown("/dir5", 1, 1)));
    }
}
