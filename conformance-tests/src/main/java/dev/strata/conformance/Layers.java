package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Layer chores shared by the cases, all through the public {@link StorageDriver} API: work inside a mounted
 * layer, describe it, and containerd's checkSnapshots mapped onto this contract (the mapping is described on
 * {@link ContainerdSnapshotTests}).
 */
final class Layers {
    private Layers() {
    }

    @FunctionalInterface
    interface Body<T> {
        T run(Path root) throws Exception;
    }

    /** A 64-hex id derived from a label, shaped like moby's layer ids (drivers must cope with their length). */
    static String id(String label) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(label.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code body} on the layer's mounted root, between one get and its put. */
    static <T> T mounted(StorageDriver d, String id, Body<T> body) {
        Path root = d.get(id, "");
        try {
            return body.run(root);
        } catch (IOException e) {
            throw new UncheckedIOException("in layer " + id + " of " + d.name(), e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            d.put(id);
        }
    }

    static void apply(StorageDriver d, String id, Applier a) {
        mounted(d, id, root -> {
            a.apply(root);
            return null;
        });
    }

    static Map<String, String> describe(StorageDriver d, String id, boolean fileTimes) {
        return mounted(d, id, root -> TreeDescription.of(root, fileTimes));
    }

    static byte[] read(StorageDriver d, String id, String path) {
        return mounted(d, id, root -> Files.readAllBytes(Applier.at(root, path)));
    }

    /** Fails, listing the differences, unless the mounted layer holds exactly what {@code expected} holds. */
    static void assertSameTree(Map<String, String> expected, Map<String, String> actual, String what) {
        List<String> diffs = TreeDescription.differences(expected, actual, 12);
        if (!diffs.isEmpty()) fail(what + ":\n  " + String.join("\n  ", diffs));
    }

    static void assertLayerEquals(Path flat, StorageDriver d, String id, String what) {
        assertSameTree(TreeDescription.of(flat, false), describe(d, id, false), what);
    }

    /** containerd's View: an image layer on {@code parent} that the suite only reads (see the mapping). */
    static void view(StorageDriver d, String name, String parent) {
        d.create(name, parent, CreateOptions.NONE);
    }

    /**
     * containerd's checkSnapshots: each applier is written into a new read-write layer on the previous one
     * (Prepare, then Commit in place), the same appliers go into a flat directory, and a view of each layer must
     * equal the flat tree. Returns the layer ids, bottom first.
     */
    static List<String> checkSnapshots(StorageDriver d, Path work, String label, Applier... appliers) throws IOException {
        Path flat = Files.createDirectories(work.resolve("flat-" + label));
        String parent = null;
        List<String> layers = new ArrayList<>();
        for (int i = 0; i < appliers.length; i++) {
            String id = id(label + "-layer-" + i);
            d.createReadWrite(id, parent, CreateOptions.NONE);
            apply(d, id, appliers[i]);
            appliers[i].apply(flat);
            String view = id(label + "-view-" + i);
            view(d, view, id);
            assertLayerEquals(flat, d, view, "a view of layer " + (i + 1) + " of " + appliers.length + " differs from the flat tree");
            d.remove(view);
            layers.add(id);
            parent = id;
        }
        return layers;
    }
}
