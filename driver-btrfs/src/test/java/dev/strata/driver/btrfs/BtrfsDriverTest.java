package dev.strata.driver.btrfs;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.nativeio.btrfs.Qgroups;
import dev.strata.nativeio.btrfs.Subvolumes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What is particular to btrfs, on a loop btrfs: snapshots, qgroup limits, what remove leaves, restarts, the probe. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BtrfsDriverTest {
    private static final long MIB = 1 << 20;
    private LoopBtrfs btrfs;

    @BeforeAll
    void mount() throws IOException {
        btrfs = LoopBtrfs.make();
    }

    @AfterAll
    void unmount() throws IOException {
        if (btrfs != null) btrfs.close();
    }

    /** The driver on {@code root}, with an empty layer {@code base}: most tests' start. */
    private static StorageDriver withBase(Path root) {
        StorageDriver d = LoopBtrfs.open(root);
        d.create("base", null, CreateOptions.NONE);
        return d;
    }

    @Test
    void theProbeSaysWhyNotOffBtrfsAndYesOnIt() throws IOException {
        BtrfsProvider p = (BtrfsProvider) DriverRegistry.load().require("btrfs");
        Path tmpfs = btrfs.scratch("probe");
        Support no = p.probe(tmpfs.resolve("strata/btrfs"));
        assertFalse(no.supported());
        assertTrue(no.reason().contains("tmpfs, not btrfs") && no.reason().contains("0x9123683e"), no.reason());
        assertFalse(Files.exists(tmpfs.resolve("strata")), "the probe made its home");
        assertTrue(p.probe(btrfs.newRoot("probe").resolve("btrfs")).supported());
        // Docker's order: below overlay (50) and aufs (40), above devicemapper (20) and vfs.
        assertEquals(30, p.priority());
        assertTrue(p.priority() > DriverRegistry.load().require("vfs").priority());
    }

    @Test
    void aSnapshotAndItsParentChangeIndependently() throws IOException {
        StorageDriver d = LoopBtrfs.open(btrfs.newRoot("independence"));
        d.create("base", null, CreateOptions.NONE);
        Path base = d.get("base", null);
        Files.writeString(base.resolve("shared"), "base");
        Files.createDirectory(base.resolve("dir"));
        Files.writeString(base.resolve("dir/file"), "in dir");
        d.put("base");
        d.createReadWrite("child", "base", CreateOptions.NONE);
        d.createReadWrite("sibling", "base", CreateOptions.NONE);
        Path child = d.get("child", null), sibling = d.get("sibling", null);
        assertEquals("base", Files.readString(child.resolve("shared")));
        Files.writeString(child.resolve("shared"), "child");
        Files.delete(child.resolve("dir/file"));
        Files.setPosixFilePermissions(child.resolve("dir"), PosixFilePermissions.fromString("rwx------"));
        Files.writeString(base.resolve("later"), "after the snapshot");

        assertEquals("base", Files.readString(base.resolve("shared")));
        assertEquals("in dir", Files.readString(base.resolve("dir/file")));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(base.resolve("dir"))));
        assertFalse(Files.exists(child.resolve("later")));
        assertEquals("base", Files.readString(sibling.resolve("shared")));
        assertTrue(Files.exists(sibling.resolve("dir/file")));
        assertEquals("base", d.parent("child"));
        assertEquals(Subvolumes.info(base).uuid(), Subvolumes.info(child).parentUuid(), "the child is a snapshot of its parent");
        d.put("child");
        d.put("sibling");
        d.cleanup();
    }

    @Test
    void aSizeLimitFailsWritesWithEdquotAndHoldsAcrossRestartsAndQuotasTurnedOff() throws Exception {
        Path root = btrfs.newRoot("quota");
        StorageDriver d = withBase(root);
        d.createReadWrite("limited", "base", CreateOptions.of(Map.of("size", "20M")));
        Path home = d.home();
        assertEquals("20971520", Files.readString(home.resolve("quotas/limited")), "moby's quota file");
        assertWriteFails(d, "limited", "first");
        d.cleanup();

        StorageDriver again = LoopBtrfs.open(root);
        assertWriteFails(again, "limited", "after a restart");
        again.cleanup();

        Qgroups.disable(home); // what moby's Cleanup does: every limit is gone from the filesystem
        StorageDriver third = LoopBtrfs.open(root);
        assertWriteFails(third, "limited", "after quotas were turned off, and on again by the next open");
        third.cleanup();

        Path layer = home.resolve("subvolumes/limited");
        long subvolume = Subvolumes.id(layer);
        third.remove("limited");
        assertFalse(Files.exists(home.resolve("quotas/limited")));
        assertQgroupGoes(home, subvolume);
    }

    @Test
    void sizeOptionsAreCheckedAsMobyChecksThem() throws IOException {
        Path root = btrfs.newRoot("options");
        StorageDriver d = LoopBtrfs.open(root, "btrfs.min_space=10M", "btrfs.size=30M");
        assertTrue(Qgroups.status(d.home()).orElseThrow().on(), "btrfs.min_space turns quotas on at open, as moby's Init");
        d.create("base", null, CreateOptions.NONE);
        InvalidOptionException small = assertThrows(InvalidOptionException.class,
                () -> d.createReadWrite("small", "base", CreateOptions.of(Map.of("size", "5M"))));
        assertTrue(small.getMessage().contains("less than btrfs.min_space 10"), small.getMessage());
        InvalidOptionException unknown = assertThrows(InvalidOptionException.class,
                () -> d.createReadWrite("odd", "base", CreateOptions.of(Map.of("inodes", "5"))));
        assertTrue(unknown.getMessage().contains("inodes") && unknown.getMessage().contains("size"), unknown.getMessage());
        assertFalse(d.exists("small") || d.exists("odd"));
        d.createReadWrite("defaulted", "base", CreateOptions.NONE);
        assertEquals(Long.toString(30 * MIB), Files.readString(d.home().resolve("quotas/defaulted")), "btrfs.size applies to read-write layers");
        d.create("image", "base", CreateOptions.NONE);
        assertFalse(Files.exists(d.home().resolve("quotas/image")), "btrfs.size does not apply to image layers");
        assertTrue(d.status().toString().contains("qgroups on, default 31.46MB, min 10.49MB"), d.status().toString()); // decimal units, as moby's HumanSize
        d.cleanup();
    }

    @Test
    void removeLeavesNoSubvolumeNotEvenANestedOne() throws Exception {
        Path root = btrfs.newRoot("remove");
        StorageDriver d = withBase(root);
        d.createReadWrite("box", "base", CreateOptions.of(Map.of("size", "50M")));
        Path box = d.get("box", null);
        // What a container might do inside its layer (systemd-nspawn, a nested engine): subvolumes of its own.
        Files.createDirectories(box.resolve("var/lib/machines"));
        Subvolumes.create(box.resolve("var/lib/machines"), "inner");
        Subvolumes.create(box.resolve("var/lib/machines/inner"), "innermost");
        Files.writeString(box.resolve("var/lib/machines/inner/innermost/f"), "x");
        d.put("box");
        Path home = d.home();
        List<Long> ids = List.of(Subvolumes.id(box), Subvolumes.id(box.resolve("var/lib/machines/inner")),
                Subvolumes.id(box.resolve("var/lib/machines/inner/innermost")));
        d.remove("box");
        d.remove("base");
        assertEquals(List.of(), d.layers());
        assertEquals(Set.of(), names(home.resolve("subvolumes")));
        for (String own : List.of("creating", "applying", "removing")) assertEquals(Set.of(), names(home.resolve(".btrfs").resolve(own)), own);
        assertEquals(Set.of(), names(home.resolve(".btrfs/parents")));
        assertTrue(Subvolumes.nested(btrfs.mountPoint()).stream().noneMatch(n -> n.path().startsWith(btrfs.mountPoint().relativize(home).toString())),
                "subvolumes left under " + home + ": " + Subvolumes.nested(btrfs.mountPoint()));
        for (long id : ids) assertQgroupGoes(home, id);
        d.cleanup();
    }

    @Test
    void aFailedApplyLeavesTheLayerAsItWasAndNoSnapshotBehind() throws IOException {
        Path root = btrfs.newRoot("apply");
        StorageDriver d = withBase(root);
        Files.writeString(d.get("base", null).resolve("kept"), "kept");
        d.put("base");
        Path before = d.home().resolve("subvolumes/base");
        java.util.UUID uuid = Subvolumes.info(before).uuid();
        RuntimeException e = assertThrows(RuntimeException.class, () -> d.applyDiff("base", null, new java.io.ByteArrayInputStream(new byte[]{1, 2, 3})));
        assertTrue(e.getMessage().endsWith("layer base unchanged"), e.getMessage());
        assertEquals(uuid, Subvolumes.info(before).uuid(), "the layer's subvolume was replaced");
        assertEquals("kept", Files.readString(d.get("base", null).resolve("kept")));
        d.put("base");
        assertEquals(Set.of(), names(d.home().resolve(".btrfs/applying")));
        d.cleanup();
    }

    @Test
    void whatAKilledCreateOrApplyLeftGoesWithoutTouchingTheLayer() throws Exception {
        Path root = btrfs.newRoot("leftovers");
        StorageDriver d = withBase(root);
        Path home = d.home(), own = home.resolve(".btrfs");
        // As kills would leave them (a create runs under the kit's lock with no mark): a sized create before its
        // rename (its subvolume limited, its parent recorded), a create before its snapshot (only the record), and
        // an apply's snapshot before its exchange.
        Subvolumes.snapshot(home.resolve("subvolumes/base"), own.resolve("creating"), "made", false);
        Path made = own.resolve("creating/made");
        if (!Qgroups.status(home).map(Qgroups.Status::on).orElse(false)) Qgroups.enable(home);
        Qgroups.limit(made, 50 * MIB);
        long madeId = Subvolumes.id(made);
        Files.createSymbolicLink(own.resolve("parents/made"), Path.of("base"));
        Files.createSymbolicLink(own.resolve("parents/unborn"), Path.of("base"));
        Subvolumes.snapshot(home.resolve("subvolumes/base"), own.resolve("applying"), "base", false);
        new BtrfsStorage(home, new BtrfsOptions(0, 0)).discardStaged("base"); // what the kit does for an apply's mark
        StorageDriver reopened = LoopBtrfs.open(root);
        for (String dir : List.of("creating", "applying")) assertEquals(Set.of(), names(own.resolve(dir)), dir);
        assertEquals(Set.of(), names(own.resolve("parents")), "records of layers that are not there go (base needs none)");
        assertEquals(List.of("base"), reopened.layers());
        assertQgroupGoes(home, madeId);
        reopened.create("made", "base", CreateOptions.NONE);
        assertEquals("base", reopened.parent("made"));
        reopened.remove("made");
        d.cleanup();
        reopened.cleanup();
    }

    /**
     * A remove cut short with its run directory lost: the layer is out of sight (in {@code removing/}) from its first
     * step, though its nested subvolume went first, and the first open on the new run directory destroys the rest.
     */
    @Test
    void aRemoveCutShortIsFinishedOnceTheRunDirectoryIsLost() throws Exception {
        Path root = btrfs.newRoot("lostremove");
        StorageDriver d = withBase(root);
        d.createReadWrite("box", "base", CreateOptions.NONE);
        Path box = d.get("box", null);
        Subvolumes.create(box, "inner");
        Files.writeString(box.resolve("inner/f"), "x");
        d.put("box");
        Path home = d.home(), grave = home.resolve(".btrfs/removing/box");
        long boxId = Subvolumes.id(box);
        d.cleanup();
        Files.move(home.resolve("subvolumes/box"), grave); // as the remove's first step leaves it
        Subvolumes.destroy(grave, "inner");                  // and its destroy, nested subvolumes first
        dev.strata.nativeio.Trees.delete(dev.strata.kit.RunDirectory.forHome(home));

        StorageDriver reopened = LoopBtrfs.open(root);
        assertEquals(List.of("base"), reopened.layers());
        assertEquals(Set.of(), names(home.resolve(".btrfs/removing")));
        assertQgroupGoes(home, boxId);
        reopened.create("box", "base", CreateOptions.NONE);
        reopened.remove("box");
        reopened.cleanup();
    }

    /**
     * An apply's mark lives in the run directory: after a reboot or a stale sweep only the snapshot in
     * {@code applying/} says an apply was cut short (before its exchange: the tar's copy; after it: the layer's old
     * content, all of it pinned). The first open on the new run directory drops it; a limit recorded for a layer that
     * is not there (a limited create killed before its rename) goes at any open.
     */
    @Test
    void whatAnApplyCutShortLeftGoesOnceTheRunDirectoryIsLost() throws Exception {
        Path root = btrfs.newRoot("lostrun");
        StorageDriver d = withBase(root);
        Files.writeString(d.get("base", null).resolve("kept"), "kept");
        d.put("base");
        Path home = d.home(), own = home.resolve(".btrfs");
        Subvolumes.snapshot(home.resolve("subvolumes/base"), own.resolve("applying"), "base", false);
        Files.writeString(own.resolve("applying/base/half"), "applied");
        Files.createDirectories(home.resolve("quotas"));
        Files.writeString(home.resolve("quotas/ghost"), Long.toString(50 * MIB));
        d.cleanup();
        dev.strata.nativeio.Trees.delete(dev.strata.kit.RunDirectory.forHome(home));

        StorageDriver reopened = LoopBtrfs.open(root);
        assertEquals(Set.of(), names(own.resolve("applying")));
        assertFalse(Files.exists(home.resolve("quotas/ghost")), "the limit of a layer that is not there");
        assertEquals(List.of("base"), reopened.layers());
        assertEquals("kept", Files.readString(reopened.get("base", null).resolve("kept")));
        assertFalse(Files.exists(reopened.get("base", null).resolve("half")));
        reopened.put("base");
        reopened.cleanup();
    }

    @Test
    void aChildsParentComesFromBtrfsUntilAnApplyRecordsIt() throws IOException {
        Path root = btrfs.newRoot("records");
        StorageDriver d = LoopBtrfs.open(root);
        d.create("src", null, CreateOptions.NONE);
        Files.writeString(d.get("src", null).resolve("added"), "added");
        d.put("src");
        byte[] tar;
        try (var in = d.diff("src", null)) {
            tar = in.readAllBytes();
        }
        d.create("base", null, CreateOptions.NONE);
        d.create("child", "base", CreateOptions.NONE);
        d.create("grandchild", "child", CreateOptions.NONE);
        Path records = d.home().resolve(".btrfs/parents");
        Set<String> before = names(records); // the diff asked for src's parent: src and base were adopted then
        assertFalse(before.contains("child") || before.contains("grandchild"), "a create writes no record: " + before);
        d.remove("grandchild");
        d.applyDiff("child", "base", new java.io.ByteArrayInputStream(tar)); // the exchange breaks btrfs's note
        assertThrows(dev.strata.api.LayerBusyException.class, () -> d.applyDiff("base", null, new java.io.ByteArrayInputStream(tar)),
                "a parent is never applied to: its uuid, which its children's note names, stays");
        assertTrue(names(records).contains("child"), "an apply records the parent before its exchange");
        StorageDriver reopened = LoopBtrfs.open(root);
        assertEquals("base", reopened.parent("child"));
        assertNull(reopened.parent("base"));
        assertEquals("added", Files.readString(reopened.get("child", null).resolve("added")));
        reopened.put("child");
        assertThrows(dev.strata.api.LayerBusyException.class, () -> reopened.remove("base"));
        reopened.remove("child");
        reopened.remove("base");
        reopened.remove("src");
        assertEquals(Set.of(), names(records));
        d.cleanup();
        reopened.cleanup();
    }

    @Test
    void aLayerMobyMadeMeanwhileIsRefusedNotRemoved() throws IOException {
        Path root = btrfs.newRoot("race");
        StorageDriver d = withBase(root);
        Path home = d.home();
        // moby, which takes no lock of ours, made both ids after the kit saw neither: one for a snapshot, one for a
        // sized create's rename.
        Subvolumes.create(home.resolve("subvolumes"), "snap");
        Subvolumes.create(home.resolve("subvolumes"), "sized");
        Files.writeString(home.resolve("subvolumes/snap/moby"), "m");
        BtrfsStorage storage = new BtrfsStorage(home, new BtrfsOptions(0, 0));
        assertThrows(dev.strata.api.LayerExistsException.class,
                () -> storage.create(new dev.strata.kit.NewLayer("snap", "base", false, CreateOptions.NONE)));
        assertThrows(dev.strata.api.LayerExistsException.class,
                () -> storage.create(new dev.strata.kit.NewLayer("sized", "base", true, CreateOptions.of(Map.of("size", "50M")))));
        assertEquals("m", Files.readString(home.resolve("subvolumes/snap/moby")));
        assertEquals(Set.of(), names(home.resolve(".btrfs/creating")));
        assertEquals(Set.of(), names(home.resolve(".btrfs/parents")), "no record of layers moby made (nor of a create: btrfs knows)");
        d.remove("snap");
        d.remove("sized");
        d.remove("base");
        d.cleanup();
    }

    @Test
    void aLayerMobyMadeGetsItsParentFromBtrfs() throws IOException {
        Path root = btrfs.newRoot("adopt");
        StorageDriver d = withBase(root);
        Path subvolumes = d.home().resolve("subvolumes");
        // moby's Create: a snapshot straight into subvolumes/, no record of the parent.
        Subvolumes.snapshot(subvolumes.resolve("base"), subvolumes, "from-moby", false);
        Subvolumes.create(subvolumes, "moby-base");
        assertTrue(d.exists("from-moby"));
        assertEquals("base", d.parent("from-moby"));
        assertNull(d.parent("moby-base"));
        assertThrows(dev.strata.api.LayerBusyException.class, () -> d.remove("base"), "base has a child moby made");
        StorageDriver reopened = LoopBtrfs.open(root);
        assertEquals(Set.of("base", "from-moby", "moby-base"), Set.copyOf(reopened.layers()));
        assertEquals("base", reopened.parent("from-moby"));
        d.cleanup();
        reopened.cleanup();
    }

    private static void assertWriteFails(StorageDriver d, String id, String when) throws IOException {
        Path root = d.get(id, null);
        try {
            Path f = root.resolve("fill-" + System.nanoTime());
            IOException e = assertThrows(IOException.class, () -> write(f, 40 * MIB), "writing 40 MiB into 20M succeeded " + when);
            assertTrue(String.valueOf(e.getMessage()).contains("Disk quota exceeded"), when + ": " + e);
            Files.deleteIfExists(f);
        } finally {
            d.put(id);
        }
    }

    private static void write(Path f, long bytes) throws IOException {
        byte[] buf = new byte[(int) MIB];
        new java.util.Random(7).nextBytes(buf);
        try (OutputStream out = Files.newOutputStream(f)) {
            for (long n = 0; n < bytes; n += buf.length) out.write(buf);
        }
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** The qgroup of a destroyed subvolume goes: removed by the driver, or by the kernel once the subvolume is dropped. */
    private static void assertQgroupGoes(Path fs, long subvolume) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Qgroups.of(fs, subvolume).isPresent() && System.nanoTime() < deadline) {
            Subvolumes.sync(fs);
            StorageDriver again = LoopBtrfs.open(fs.getParent()); // an open retries the qgroups kept for later
            again.cleanup();
            Thread.sleep(100);
        }
        assertTrue(Qgroups.of(fs, subvolume).isEmpty(), "qgroup 0/" + subvolume + " is still there: " + Qgroups.list(fs));
    }

    private static Set<String> names(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return Set.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).collect(Collectors.toSet());
        }
    }
}
