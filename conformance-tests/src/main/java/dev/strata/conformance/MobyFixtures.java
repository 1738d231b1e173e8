package dev.strata.conformance;

import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Stat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** moby graphtest's helpers (testutil.go, testutil_unix.go), through the public driver API. */
final class MobyFixtures {
    private MobyFixtures() {
    }

    /** createBase: a read-write layer with "a subdir" (0705+sticky, 1:2) and "a file" (0222+setuid). */
    static void createBase(StorageDriver d, String id) {
        d.createReadWrite(id, null, CreateOptions.NONE);
        Layers.apply(d, id, Applier.all(
                Applier.createDir("a subdir", 0705),
                Applier.chown("a subdir", 1, 2),
                Applier.chmodPath("a subdir", 01705),
                Applier.createFile("a file", "Some data", 04222)));
    }

    static void verifyBase(StorageDriver d, String id) {
        Layers.mounted(d, id, root -> {
            MobyGraphTests.assertMode(root.resolve("a subdir"), Stat.S_IFDIR, 01705, 1, 2);
            MobyGraphTests.assertMode(root.resolve("a file"), Stat.S_IFREG, 04222, 0, 0);
            assertEquals(List.of("a file", "a subdir"), MobyGraphTests.entries(root), "entries of " + id);
            return null;
        });
    }

    /** addManyFiles: directory-(i/100*100)/file-i with 64 random bytes each, mode 0755. */
    static void addManyFiles(StorageDriver d, String id, int count, long seed) {
        Layers.mounted(d, id, root -> {
            for (int i = 0; i < count; i += 100) {
                Files.createDirectories(root.resolve("directory-" + i));
                for (int j = 0; i + j < count && j < 100; j++) {
                    Applier.createFile("directory-" + i + "/file-" + (i + j), RandomContent.of(64, seed + i + j), 0755).apply(root);
                }
            }
            return null;
        });
    }

    /**
     * Waits out the timestamp tick of what was just written. A naive diff (moby's and Strata's) sees a same-size
     * rewrite only through its mtime, and the kernel stamps files from a coarse clock (one jiffy, at most 10 ms):
     * a rewrite within the tick of the original looks unchanged. moby's graphtest has this race; real layers are
     * never rewritten within milliseconds of their parent.
     */
    static void pastTimestampTick() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting out a timestamp tick", e);
        }
    }

    static void checkManyFiles(StorageDriver d, String id, int count, long seed) {
        Layers.mounted(d, id, root -> {
            for (int i = 0; i < count; i += 100) {
                for (int j = 0; i + j < count && j < 100; j++) {
                    Path f = root.resolve("directory-" + i).resolve("file-" + (i + j));
                    assertArrayEquals(RandomContent.of(64, seed + i + j), Files.readAllBytes(f), "content of " + root.relativize(f));
                }
            }
            return null;
        });
    }

    /** changeManyFiles: in each directory, j%3 == 0 rewrites, 1 adds file-SEED-N, 2 deletes; returns the changes. */
    static List<Change> changeManyFiles(StorageDriver d, String id, int count, long seed) {
        return Layers.mounted(d, id, root -> {
            List<Change> changes = new ArrayList<>();
            for (int i = 0; i < count; i += 100) {
                String dir = "/directory-" + i;
                Files.createDirectories(Applier.at(root, dir));
                for (int j = 0; i + j < count && j < 100; j++) {
                    if (j == 0) changes.add(new Change(dir, Change.Kind.MODIFY));
                    byte[] content = RandomContent.of(64, seed + i + j);
                    switch (j % 3) {
                        case 0 -> {
                            String p = dir + "/file-" + (i + j);
                            Applier.createFile(p, content, 0755).apply(root);
                            changes.add(new Change(p, Change.Kind.MODIFY));
                        }
                        case 1 -> {
                            String p = dir + "/file-" + seed + "-" + (i + j);
                            Applier.createFile(p, content, 0755).apply(root);
                            changes.add(new Change(p, Change.Kind.ADD));
                        }
                        default -> {
                            String p = dir + "/file-" + (i + j);
                            Files.delete(Applier.at(root, p));
                            changes.add(new Change(p, Change.Kind.DELETE));
                        }
                    }
                }
            }
            return changes;
        });
    }

    /** addManyLayers: count layers on base, each writing top-id and layer-N/{layer-id,parent-id}. Returns the top. */
    static String addManyLayers(StorageDriver d, String base, int count) {
        String last = base;
        for (int i = 1; i <= count; i++) {
            String next = Layers.id("layer-" + i + "-on-" + base);
            d.create(next, last, CreateOptions.NONE);
            String parent = last;
            int n = i;
            Layers.apply(d, next, Applier.all(
                    Applier.createFile("top-id", next, 0755),
                    Applier.createDir("layer-" + n, 0755),
                    Applier.createFile("layer-" + n + "/layer-id", next, 0755),
                    Applier.createFile("layer-" + n + "/parent-id", parent, 0755)));
            last = next;
        }
        return last;
    }

    /** checkManyLayers: top-id is the top, and the layer-N chain leads down through each parent. */
    static void checkManyLayers(StorageDriver d, String top, int count) {
        Layers.mounted(d, top, root -> {
            String expect = Files.readString(root.resolve("top-id"));
            assertEquals(top, expect, "top-id");
            for (int i = count; i > 0; i--) {
                Path layerDir = root.resolve("layer-" + i);
                assertEquals(expect, Files.readString(layerDir.resolve("layer-id")), "layer-" + i + "/layer-id");
                expect = Files.readString(layerDir.resolve("parent-id"));
            }
            return null;
        });
    }
}
