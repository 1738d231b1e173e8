package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.LayerEntry;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.StorageDriver;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract's error cases and reference-count edges (DESIGN.md, "The contract"), several of them the
 * counterparts of containerd's PrepareViewFailing, Remove and CloseTwice.
 */
public interface ContractTests extends DriverUnderTest {
    @Test
    @Order(301)
    @DisplayName("contract: PutTwice")
    default void putTwice() {
        StorageDriver d = driver();
        d.createReadWrite("layer", null, CreateOptions.NONE);
        Path root = d.get("layer", "");
        Layers.apply(d, "layer", Applier.createFile("/f", "x", 0644));
        d.put("layer");
        d.put("layer"); // one more than taken: must be harmless
        assertEquals(0, d.references("layer"), "references after a put too many");
        assertArrayEquals("x".getBytes(), Layers.read(d, "layer", "/f"), "the layer after a put too many");
        assertEquals(root, Layers.mounted(d, "layer", r -> r), "get returns the same root again");
        d.cleanup();
        d.cleanup(); // containerd's CloseTwice
        assertArrayEquals("x".getBytes(), Layers.read(d, "layer", "/f"), "the layer after cleanup() twice");
    }

    @Test
    @Order(302)
    @DisplayName("contract: CreateTwice")
    default void createTwice() {
        StorageDriver d = driver();
        d.create("layer", null, CreateOptions.NONE);
        assertThrows(LayerExistsException.class, () -> d.create("layer", null, CreateOptions.NONE), "create of an existing id");
        assertThrows(LayerExistsException.class, () -> d.createReadWrite("layer", null, CreateOptions.NONE), "createReadWrite of an existing id");
        assertEquals(List.of("layer"), d.layers());
    }

    @Test
    @Order(303)
    @DisplayName("contract: RemoveAndReuseId")
    default void removeAndReuse() {
        StorageDriver d = driver();
        d.createReadWrite("key", null, CreateOptions.NONE);
        Layers.apply(d, "key", Applier.createFile("/old", "old", 0644));
        d.remove("key");
        assertFalse(d.exists("key"), "exists after remove");
        d.create("key", null, CreateOptions.NONE);
        Layers.mounted(d, "key", root -> {
            assertEquals(List.of(), MobyGraphTests.entries(root), "a layer made again under a removed id holds old files");
            return null;
        });
        d.remove("key");
        d.createReadWrite("key", "", CreateOptions.NONE); // "" parent means none
        assertEquals(null, d.parent("key"));
    }

    @Test
    @Order(307)
    @DisplayName("contract: EntriesAgreeWithLayersParentAndReferences")
    default void entriesAgree() {
        StorageDriver d = driver();
        d.create("base", null, CreateOptions.NONE);
        d.createReadWrite("c1", "base", CreateOptions.NONE);
        d.get("c1", null);
        try {
            Set<LayerEntry> expected = Set.of(new LayerEntry("base", null, 0), new LayerEntry("c1", "base", 1));
            assertEquals(expected, Set.copyOf(d.entries()), "entries() with a mounted child");
            for (String id : d.layers()) {
                assertTrue(expected.contains(new LayerEntry(id, d.parent(id), d.references(id))), id);
            }
        } finally {
            d.put("c1");
        }
        assertEquals(Set.of(new LayerEntry("base", null, 0), new LayerEntry("c1", "base", 0)), Set.copyOf(d.entries()), "entries() after put");
    }

    @Test
    @Order(304)
    @DisplayName("contract: UnknownParent")
    default void unknownParent() {
        StorageDriver d = driver();
        assertThrows(ParentUnknownException.class, () -> d.create("child", "no-such-parent", CreateOptions.NONE));
        assertThrows(ParentUnknownException.class, () -> d.createReadWrite("child", "no-such-parent", CreateOptions.NONE));
        assertFalse(d.exists("child"), "a refused create left a layer");
        assertEquals(List.of(), d.layers());
    }

    @Test
    @Order(305)
    @DisplayName("contract: UnknownLayer")
    default void unknownLayer() {
        StorageDriver d = driver();
        assertFalse(d.exists("nope"));
        assertThrows(LayerUnknownException.class, () -> d.get("nope", ""), "get of an unknown layer");
        assertThrows(LayerUnknownException.class, () -> d.applyDiff("nope", null, java.io.InputStream.nullInputStream()),
                "applyDiff into an unknown layer");
    }

    @Test
    @Order(306)
    @DisplayName("contract: InvalidLayerId")
    default void invalidLayerId() throws IOException {
        StorageDriver d = driver();
        Path outside = testRoot().resolve("outside");
        Files.createDirectories(outside);
        List<String> before = list(testRoot());
        for (String bad : List.of("", ".", "..", "../outside/x", "a/b", "/abs", "x\0y", "-dash")) {
            assertThrows(InvalidLayerIdException.class, () -> d.create(bad, null, CreateOptions.NONE), "create(\"" + bad + "\")");
            assertThrows(InvalidLayerIdException.class, () -> d.createReadWrite(bad, null, CreateOptions.NONE), "createReadWrite(\"" + bad + "\")");
        }
        d.create("ok", null, CreateOptions.NONE);
        assertThrows(InvalidLayerIdException.class, () -> d.create("child", "../ok", CreateOptions.NONE), "a parent of ../ok");
        assertEquals(before, list(testRoot()), "a refused id changed the directory above the driver's home");
        assertEquals(List.of(), list(outside), "a refused id wrote outside the driver's home");
        assertEquals(List.of("ok"), d.layers());
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
