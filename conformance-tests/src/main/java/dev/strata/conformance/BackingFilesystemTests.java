package dev.strata.conformance;

import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.NotSupportedException;
import dev.strata.api.StorageDriver;
import dev.strata.archive.LayerArchive;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.abort;

/** What the filesystem under the driver's root must not change. */
public interface BackingFilesystemTests extends DriverUnderTest {
    /** What one layer stack measures: applied bytes, the image layer's size, the child's diff size and changes. */
    record Sizes(long applied, long layerSize, long childDiffSize, List<Change> childChanges) {
    }

    @Test
    @Order(460)
    @DisplayName("strata: SizesWithoutDType (ext4 -O ^filetype)")
    default void sizesWithoutDType() throws IOException {
        Path flat = Files.createDirectories(testRoot().resolve("flat"));
        Applier.all(Applier.createDir("/a", 0755), Applier.createDir("/a/b", 0755), Applier.createDir("/a/b/c", 0755),
                Applier.createFile("/a/b/c/deep", new byte[1000], 0644), Applier.createFile("/a/mid", new byte[500], 0644),
                Applier.createFile("/top", new byte[100], 0644), Applier.link("/a/mid", "/a/b/mid-link"),
                Applier.symlink("top", "/a/top-link")).apply(flat);
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        LayerArchive.writeTree(flat, tar);
        // the reference: the same stack on the suite's scratch tmpfs, which has d_type
        Sizes expected = measure(driver(), tar.toByteArray());
        // moby's directory.Size: files once however many links, a symlink counts its target's length
        assertEquals(1000 + 500 + 100 + 3, expected.layerSize(), "the layer's size on tmpfs");
        try (LoopFilesystem ext4 = LoopFilesystem.ext4WithoutFiletype(testRoot().resolve("no-dtype"))) {
            StorageDriver d;
            try {
                d = openAt(ext4.mountPoint());
            } catch (NotSupportedException e) {
                abort(driverName() + " does not run on a filesystem without d_type: " + e.getMessage());
                return;
            }
            try {
                assertEquals(expected, measure(d, tar.toByteArray()), "sizes on ext4 without d_type differ from those on tmpfs");
            } finally {
                d.cleanup(); // before the filesystem goes away under it
            }
        }
    }

    private static Sizes measure(StorageDriver d, byte[] tar) {
        d.create("nodtype-base", null, CreateOptions.NONE);
        long applied = d.applyDiff("nodtype-base", null, new ByteArrayInputStream(tar));
        long layerSize = d.diffSize("nodtype-base", null);
        d.createReadWrite("nodtype-child", "nodtype-base", CreateOptions.NONE);
        Layers.apply(d, "nodtype-child", Applier.all(Applier.createFile("/a/b/c/new", new byte[77], 0644), Applier.removeAll("/top")));
        long childSize = d.diffSize("nodtype-child", "nodtype-base");
        List<Change> changes = d.changes("nodtype-child", "nodtype-base").stream()
                .sorted(java.util.Comparator.comparing(Change::path)).toList();
        return new Sizes(applied, layerSize, childSize, changes);
    }
}
