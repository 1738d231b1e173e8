package dev.strata.driver.devmapper;

import dev.strata.api.StorageDriver;
import dev.strata.api.CreateOptions;
import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.StatusEntry;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.StatFs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver on a real loop-backed thin pool. Needs device-mapper: runs in the kernel lab. */
class DevmapperDriverTest {
    @TempDir
    Path tmp;
    Path home;
    StorageDriver d;
    String prefix;

    @BeforeEach
    void open() {
        DmAssumptions.assumeDeviceMapper();
        home = tmp.resolve("devicemapper");
        d = DmAssumptions.open(home);
        assertEquals(List.of(), DmAssumptions.loopDevices(home), "opening makes no device yet");
        prefix = DmAssumptions.storage(d).devices().prefix;
    }

    @AfterEach
    void close() {
        if (d != null) d.cleanup();
        if (prefix != null) DmAssumptions.assertNothingLeft(home, prefix);
    }

    static Map<String, String> status(StorageDriver d) {
        return d.status().stream().collect(Collectors.toMap(StatusEntry::key, StatusEntry::value, (a, b) -> a, java.util.LinkedHashMap::new));
    }

    @Test
    void layersAreSnapshotsOfTheirParents() throws Exception {
        d.create("a", null, CreateOptions.NONE);
        Path a = d.get("a", "");
        Files.writeString(a.resolve("hello"), "from a");
        assertEquals(1, d.references("a"));
        d.put("a");
        assertEquals(0, d.references("a"));
        assertFalse(MountInfo.isMountPoint(DmAssumptions.storage(d).mountPoint("a")));
        d.create("b", "a", CreateOptions.NONE);
        assertEquals("a", d.parent("b"));
        assertNull(d.parent("a"));
        Path b = d.get("b", "");
        assertEquals("from a", Files.readString(b.resolve("hello")));
        Files.writeString(b.resolve("hello"), "from b");
        assertEquals("b", Files.readString(DmAssumptions.storage(d).mountPoint("b").resolve("id")));
        Map<String, String> meta = d.metadata("b");
        assertTrue(Files.exists(Path.of(meta.get("DeviceName"))), meta.toString());
        d.put("b");
        assertEquals("from a", Files.readString(d.get("a", "").resolve("hello")), "the parent did not change");
        d.put("a");
        assertEquals(List.of("a", "b"), d.layers().stream().sorted().toList());
        assertThrows(LayerBusyException.class, () -> d.remove("a"));
        d.remove("b");
        d.remove("a");
        assertEquals(List.of(), d.layers());
        assertThrows(LayerUnknownException.class, () -> d.remove("a"));
    }

    @Test
    void aMountedParentIsSuspendedAroundItsSnapshot() throws Exception {
        d.create("p", null, CreateOptions.NONE);
        Path p = d.get("p", "");
        Files.writeString(p.resolve("f"), "written while mounted");
        d.create("c", "p", CreateOptions.NONE); // no sync: the suspend freezes and flushes p's filesystem
        assertEquals("written while mounted", Files.readString(d.get("c", "").resolve("f")));
        d.put("c");
        d.put("p");
        d.remove("c");
        d.remove("p");
    }

    @Test
    void removeUnmountsAMountedLayer() {
        d.createReadWrite("rw", null, CreateOptions.NONE);
        d.get("rw", "");
        d.get("rw", "");
        assertEquals(2, d.references("rw"));
        d.remove("rw");
        assertFalse(d.exists("rw"));
        assertFalse(MountInfo.isMountPoint(DmAssumptions.storage(d).mountPoint("rw")));
    }

    @Test
    void sizeGrowsAReadWriteLayerAndNeverShrinksIt() throws Exception {
        d.createReadWrite("big", null, CreateOptions.of(Map.of("size", "128M")));
        Path root = d.get("big", "");
        long total = StatFs.of(root).blocks() * StatFs.of(root).blockSize();
        assertTrue(total > 100L << 20, "the filesystem grew to the device: " + total);
        assertEquals(Long.toString(128L << 20), d.metadata("big").get("DeviceSize"));
        d.put("big");
        var small = assertThrows(dev.strata.api.NotSupportedException.class, () -> d.createReadWrite("small", null, CreateOptions.of(Map.of("size", "32M"))));
        assertTrue(small.getMessage().contains("devmapper: Container size cannot be smaller than 67.11MB"), small.getMessage());
        var child = assertThrows(dev.strata.api.NotSupportedException.class, () -> d.createReadWrite("child", "big", CreateOptions.of(Map.of("size", "64M"))));
        assertTrue(child.getMessage().contains("cannot be smaller than 134.2MB"), child.getMessage());
        var unknown = assertThrows(InvalidOptionException.class, () -> d.createReadWrite("x", null, CreateOptions.of(Map.of("quota", "1G"))));
        assertTrue(unknown.getMessage().contains("devmapper: Unknown option quota"), unknown.getMessage());
        assertFalse(d.exists("small") || d.exists("child") || d.exists("x"), "a refused create changes nothing");
        d.remove("big");
    }

    @Test
    void badIdsAndParentsAreRefusedAndTheSetsOwnNamesWork() throws Exception {
        for (String own : List.of("base", "pool", "deviceset-metadata", "transaction-metadata")) {
            d.create(own, null, CreateOptions.NONE); // the set's own names are fine as layer ids
            Files.writeString(d.get(own, "").resolve("f"), own);
            d.put(own);
        }
        assertEquals(List.of("base", "deviceset-metadata", "pool", "transaction-metadata"), d.layers().stream().sorted().toList());
        d.create("child", "base", CreateOptions.NONE);
        assertEquals("base", Files.readString(d.get("child", "").resolve("f")));
        d.put("child");
        d.remove("child");
        for (String own : List.of("base", "pool", "deviceset-metadata", "transaction-metadata")) d.remove(own);
        assertThrows(InvalidLayerIdException.class, () -> d.create("../x", null, CreateOptions.NONE));
        assertThrows(ParentUnknownException.class, () -> d.create("x", "nope", CreateOptions.NONE));
        d.create("x", null, CreateOptions.NONE);
        assertThrows(LayerExistsException.class, () -> d.create("x", null, CreateOptions.NONE));
        d.remove("x");
    }

    @Test
    void statusHasThePoolFigures() {
        Map<String, String> s = status(d);
        assertEquals(prefix + "-pool", s.get("Pool Name"));
        assertEquals("65.54kB", s.get("Pool Blocksize"));
        assertEquals("67.11MB", s.get("Base Device Size"));
        assertEquals("ext4", s.get("Backing Filesystem"));
        assertEquals(home.resolve("devicemapper/data").toString(), s.get("Data loop file"));
        assertTrue(s.get("Data file").matches("/dev/loop\\d+"), s.toString());
        assertEquals("1.074GB", s.get("Data Space Total"));
        assertEquals("16.78MB", s.get("Metadata Space Total"));
        assertEquals("107.4MB", s.get("Thin Pool Minimum Free Space"));
        assertEquals("true", s.get("Deferred Removal Enabled"));
        assertEquals("true", s.get("Deferred Deletion Enabled"));
        assertEquals("0", s.get("Deferred Deleted Device Count"));
        for (String k : List.of("Data Space Used", "Data Space Available", "Metadata Space Used", "Metadata Space Available")) {
            assertTrue(s.containsKey(k), k + " in " + s);
        }
    }

    @Test
    void layersSurviveACleanupAndReopen() throws Exception {
        d.create("a", null, CreateOptions.NONE);
        Files.writeString(d.get("a", "").resolve("f"), "kept");
        d.put("a");
        d.create("b", "a", CreateOptions.NONE);
        d.cleanup();
        DmAssumptions.assertNothingLeft(home, prefix);
        d = DmAssumptions.open(home);
        assertEquals(List.of("a", "b"), d.layers().stream().sorted().toList());
        assertEquals("kept", Files.readString(d.get("b", "").resolve("f")));
        d.put("b");
        d.remove("b");
        d.remove("a");
    }

    @Test
    void aBusyDeviceIsDeletedLater() throws Exception {
        d.create("busy", null, CreateOptions.NONE);
        d.get("busy", "");
        Path dev = Path.of(d.metadata("busy").get("DeviceName"));
        try (var holder = java.nio.channels.FileChannel.open(dev, java.nio.file.StandardOpenOption.READ)) {
            d.put("busy");   // the device stays: deferred removal waits for our descriptor
            d.remove("busy"); // the pool says EBUSY: marked deleted
            assertFalse(d.exists("busy"));
            assertEquals(List.of(), d.layers());
            assertEquals("1", status(d).get("Deferred Deleted Device Count"));
        }
        // closed: the kernel removes the dm device; the worker (here called directly) deletes the thin device
        DmAssumptions.storage(d).devices().cleanupDeletedDevices();
        assertEquals("0", status(d).get("Deferred Deleted Device Count"));
        d.create("busy", null, CreateOptions.NONE);
        d.remove("busy");
    }
}
