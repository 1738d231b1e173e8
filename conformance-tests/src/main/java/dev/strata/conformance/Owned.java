package dev.strata.conformance;

import dev.strata.api.StorageDriver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One row of an ownership table: who must own {@code path} (relative to a layer's root, or a tar entry's name), and
 * what the row is about when that is not plain. The id-map tests check a table at a time, in a mounted layer or in a
 * diff.
 */
record Owned(String path, int uid, int gid, String why) {

    static Owned owned(String path, int uid, int gid) {
        return new Owned(path, uid, gid, null);
    }

    static Owned owned(String path, int uid, int gid, String why) {
        return new Owned(path, uid, gid, why);
    }

    /** Checks every row in the layer's view, between one get and its put. */
    static void check(StorageDriver d, String layer, Owned... rows) {
        Layers.mounted(d, layer, root -> {
            check(root, rows);
            return null;
        });
    }

    /** Checks every row under {@code root} (an empty path is root itself). */
    static void check(Path root, Owned... rows) {
        for (Owned r : rows) assertEquals(List.of(r.uid, r.gid), owner(root.resolve(r.path)), r.why);
    }

    /** Checks every row against a diff's entries, by name with their uid and gid. */
    static void check(Map<String, List<Integer>> entries, Owned... rows) {
        for (Owned r : rows) {
            assertEquals(List.of(r.uid, r.gid), entries.get(r.path), () -> (r.why == null ? "" : r.why + "; ") + "diff entries " + entries);
        }
    }

    /** uid and gid of {@code p}, not following a symlink. */
    static List<Integer> owner(Path p) {
        try {
            return List.of((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                    (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
