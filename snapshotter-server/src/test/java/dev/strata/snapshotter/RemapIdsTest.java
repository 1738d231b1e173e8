package dev.strata.snapshotter;

import containerd.services.snapshots.v1.SnapshotsOuterClass.ViewSnapshotRequest;
import containerd.types.MountOuterClass.Mount;
import dev.strata.api.IdMaps;
import dev.strata.api.IdMapping;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.nativeio.Kernel;
import dev.strata.snapshotter.SnapshotException.Reason;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.strata.snapshotter.Client.code;
import static dev.strata.snapshotter.IdMapLabels.GID_LABEL;
import static dev.strata.snapshotter.IdMapLabels.UID_LABEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * containerd's {@code remap-ids}: the {@code containerd.io/snapshot/uidmapping} / {@code gidmapping} labels parsed
 * as containerd writes them, bad ones refused in one line with nothing made, and a snapshot prepared with them shown
 * under its maps (the image's root-owned files as the mapped root) until it is removed, with nothing left mounted.
 */
class RemapIdsTest {
    static final Map<String, String> MAPPED = Map.of(UID_LABEL, "0:100000:65536", GID_LABEL, "0:200000:65536");

    @TempDir
    Path tmp;

    @Test
    void labelsParseAsContainerdWritesThem() {
        assertEquals(IdMaps.NONE, IdMapLabels.of("prepare", "k", Map.of("other", "x"), null), "no labels: the driver is not asked");
        IdMaps two = IdMapLabels.parse("prepare", "k", Map.of(UID_LABEL, "0:100000:1000,1000:300000:64536", GID_LABEL, "0:100000:65536"));
        assertEquals(List.of(new IdMapping(0, 100000, 1000), new IdMapping(1000, 300000, 64536)), two.uids());
        assertEquals(100000, two.rootGid());
    }

    @Test
    void badLabelsAreInvalidArgumentInOneLineNamingTheLabel() {
        assertBad(Map.of(UID_LABEL, "0:100000", GID_LABEL, "0:100000:65536"), UID_LABEL + "=\"0:100000\"");
        assertBad(Map.of(UID_LABEL, "0:100000:65536", GID_LABEL, "a:b:c"), GID_LABEL + "=\"a:b:c\"");
        assertBad(Map.of(UID_LABEL, "0:100000:65536"), GID_LABEL + " is missing");
        assertBad(Map.of(GID_LABEL, "0:100000:65536"), UID_LABEL + " is missing");
        assertBad(Map.of(UID_LABEL, "1:100000:65536", GID_LABEL, "0:100000:65536"), "does not map the container's root");
        assertBad(Map.of(UID_LABEL, "0:100000:10,5:200000:10", GID_LABEL, "0:100000:65536"), "overlap");
        assertBad(Map.of(UID_LABEL, "0:4294967295:2", GID_LABEL, "0:100000:65536"), "0 to 4294967295");
    }

    private static void assertBad(Map<String, String> labels, String says) {
        SnapshotException e = assertThrows(SnapshotException.class, () -> IdMapLabels.parse("prepare", "k", labels));
        assertEquals(Reason.INVALID_ARGUMENT, e.reason());
        assertTrue(e.getMessage().startsWith("prepare k: ") && e.getMessage().contains(says), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(!e.getMessage().contains("Exception"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlay", "vfs"})
    void theCapabilityFollowsWhatTheDriverCanShow(String driver) throws Exception {
        try (Served s = new Served(driver, tmp)) {
            Support ids = s.snapshotter.driver().capabilities().idMaps();
            assertEquals(ids.supported() ? List.of("remap-ids") : List.of(), IdMapLabels.capabilities(s.snapshotter.driver()));
            assertTrue(IdMapLabels.advice(s.snapshotter.driver()).contains(ids.reason()));
            if (driver.equals("vfs")) assertEquals(List.of("remap-ids"), IdMapLabels.capabilities(s.snapshotter.driver()), "vfs copies");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlay", "vfs"})
    void aBadLabelChangesNothing(String driver) throws Exception {
        try (Served s = new Served(driver, tmp)) {
            Client c = s.client;
            c.prepare("b-active", "");
            c.commit("b", "b-active");
            List<String> layers = s.snapshotter.driver().layers();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> c.prepare("c", "b", Map.of(UID_LABEL, "0:100000", GID_LABEL, "0:100000:65536")));
            assertEquals(Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals("prepare c: label " + UID_LABEL + "=\"0:100000\": each range is container_id:host_id:size, not \"0:100000\"",
                    e.getStatus().getDescription());
            assertEquals(Code.NOT_FOUND, code(() -> c.stat("c")));
            assertEquals(layers, s.snapshotter.driver().layers());
            c.remove("b");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlay", "vfs"})
    void aPreparedSnapshotShowsTheImageUnderItsMapsAndLeavesNothingMounted(String driver) throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root: chown, mounts");
        try (Served s = new Served(driver, tmp)) {
            StorageDriver d = s.snapshotter.driver();
            assumeTrue(d.capabilities().idMaps().supported(), driver + " cannot show layers under id maps here: " + d.capabilities().idMaps().reason());
            Client c = s.client;
            Path base = Path.of(c.prepare("b-active", "").getFirst().getSource());
            Files.writeString(base.resolve("passwd"), "root:x:0:0::/root:/bin/sh\n");
            Files.createDirectory(base.resolve("home"));
            Files.setAttribute(base.resolve("home"), "unix:uid", 1000);
            Files.setAttribute(base.resolve("home"), "unix:gid", 1000);
            c.commit("b", "b-active");

            Mount m = c.prepare("c", "b", MAPPED).getFirst();
            assertEquals("bind", m.getType(), "the driver shows the layer under its maps; containerd binds it");
            assertEquals(List.of("rw", "rbind"), m.getOptionsList());
            Path root = Path.of(m.getSource());
            assertOwner(root.resolve("passwd"), 100000, 200000);
            assertOwner(root.resolve("home"), 101000, 201000);
            assertOwner(root, 100000, 200000);
            assertEquals(List.of(m), c.mounts("c"), "Mounts answers the same, and takes no second reference");
            String layer = d.layers().stream().filter(l -> l.startsWith(Snapshotter.LAYER_PREFIX) && d.references(l) > 0).findFirst().orElseThrow();
            assertEquals(1, d.references(layer));
            assertEquals(MAPPED.get(UID_LABEL), d.idMaps(layer).uidSpec());
            assertEquals(Map.of("x", "y", UID_LABEL, MAPPED.get(UID_LABEL), GID_LABEL, MAPPED.get(GID_LABEL)),
                    c.update("c", Map.of("x", "y"), "labels").getLabelsMap(), "the id-map labels say how the layer was made: they stay");
            assertEquals(List.of(m), c.mounts("c"));

            Mount v = s.client.stub.view(ViewSnapshotRequest.newBuilder().setKey("v").setParent("b").putAllLabels(MAPPED).build()).getMounts(0);
            assertEquals(List.of("ro", "rbind"), v.getOptionsList());
            assertOwner(Path.of(v.getSource()).resolve("passwd"), 100000, 200000);

            // a committed layer of a mapped container (docker commit in a user namespace), run again under the maps:
            // Strata made it with maps, so its root being the mapped root's does not mean the client chown'ed it
            c.commit("cm", "c");
            assertEquals(0, d.references(layer), "Commit releases the driver's mount");
            Mount again = c.prepare("d", "cm", MAPPED).getFirst();
            assertEquals("bind", again.getType());
            assertOwner(Path.of(again.getSource()).resolve("passwd"), 100000, 200000);

            c.remove("v");
            c.remove("d");
            c.remove("cm");
            s.snapshotter.cleanup();
            assertEquals(List.of(), Mountinfo.under(tmp.toString()), "nothing mounted after remove");
            assertEquals(List.of(), d.layers().stream().filter(l -> d.references(l) > 0).toList());
            c.remove("b");
        }
    }

    /**
     * containerd's client without remap-ids chowns a copy of the image to the maps itself, then still sends the
     * labels: the container's layer is made without maps (no second shift), its own root given to the mapped root.
     */
    @ParameterizedTest
    @ValueSource(strings = {"overlay", "vfs"})
    void aParentTheClientChownedIsNotShiftedAgain(String driver) throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root: chown");
        try (Served s = new Served(driver, tmp)) {
            StorageDriver d = s.snapshotter.driver();
            assumeTrue(d.capabilities().idMaps().supported(), driver + " cannot show layers under id maps here: " + d.capabilities().idMaps().reason());
            Client c = s.client;
            Path base = Path.of(c.prepare("remapped-remap", "").getFirst().getSource());
            Files.writeString(base.resolve("passwd"), "root:x:0:0::/root:/bin/sh\n");
            for (Path p : List.of(base.resolve("passwd"), base)) { // what the client's remapRootFS does to every file
                Files.setAttribute(p, "unix:uid", 100000);
                Files.setAttribute(p, "unix:gid", 200000);
            }
            c.commit("remapped", "remapped-remap");

            Mount m = c.prepare("c", "remapped", MAPPED).getFirst();
            String layer = d.layers().stream().filter(l -> l.startsWith(Snapshotter.LAYER_PREFIX) && d.parent(l) != null).findFirst().orElseThrow();
            assertTrue(d.idMaps(layer).isNone(), "made without maps");
            assertEquals(0, d.references(layer), "described as any other snapshot, not mounted by Strata");
            Path own = m.getType().equals("bind") ? Path.of(m.getSource()) : Path.of(m.getOptionsList().stream()
                    .filter(o -> o.startsWith("upperdir=")).findFirst().orElseThrow().substring("upperdir=".length()));
            assertOwner(own, 100000, 200000);
            c.remove("c");
            c.remove("remapped");
        }
    }

    private static void assertOwner(Path p, int uid, int gid) throws Exception {
        assertEquals(uid, Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS), p + " uid");
        assertEquals(gid, Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS), p + " gid");
    }
}
