package dev.strata.conformance;

import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * moby's {@code daemon/graphdriver/graphtest}, case by case (SetQuota is in {@link QuotaTests}). File contents
 * come from {@link RandomContent}, so bytes differ from moby's for the same seeds; names, counts, modes and the
 * expected change list are moby's.
 */
public interface MobyGraphTests extends DriverUnderTest {
    /** Files for DiffApply: moby runs 10 (overlay2) or 100 (c/s vfs); "many" here. */
    int DIFF_APPLY_FILES = 1000;
    /** Layers for DeepLayerRead: what overlay2 runs (TestOverlay128LayerRead). */
    int DEEP_LAYERS = 128;

    @Test
    @Order(101)
    @DisplayName("moby: CreateEmpty")
    default void createEmpty() throws IOException {
        StorageDriver d = driver();
        d.create("empty", null, CreateOptions.NONE);
        assertTrue(d.exists("empty"), "a newly created layer does not exist");
        Layers.mounted(d, "empty", root -> {
            assertMode(root, Stat.S_IFDIR, 0755, 0, 0);
            assertEquals(List.of(), entries(root), "a new layer is not empty");
            return null;
        });
        d.remove("empty");
        assertFalse(d.exists("empty"), "a removed layer still exists");
    }

    @Test
    @Order(102)
    @DisplayName("moby: CreateBase")
    default void createBase() {
        StorageDriver d = driver();
        MobyFixtures.createBase(d, "Base");
        MobyFixtures.verifyBase(d, "Base");
        d.remove("Base");
    }

    @Test
    @Order(103)
    @DisplayName("moby: CreateSnap")
    default void createSnap() {
        StorageDriver d = driver();
        MobyFixtures.createBase(d, "Base");
        d.create("Snap", "Base", CreateOptions.NONE);
        MobyFixtures.verifyBase(d, "Snap");
        d.remove("Snap");
        d.remove("Base");
    }

    @Test
    @Order(104)
    @DisplayName("moby: DeepLayerRead (" + DEEP_LAYERS + " layers)")
    default void deepLayerRead() {
        StorageDriver d = driver();
        String base = Layers.id("deep-base");
        d.create(base, null, CreateOptions.NONE);
        byte[] content = "test content".getBytes();
        Layers.apply(d, base, Applier.createFile("testfile.txt", content, 0755));
        String top = MobyFixtures.addManyLayers(d, base, DEEP_LAYERS);
        MobyFixtures.checkManyLayers(d, top, DEEP_LAYERS);
        assertArrayEquals(content, Layers.read(d, top, "testfile.txt"), "testfile.txt read through " + DEEP_LAYERS + " layers");
    }

    @Test
    @Order(105)
    @DisplayName("moby: DiffApply (" + DIFF_APPLY_FILES + " files)")
    default void diffApply() throws IOException {
        StorageDriver d = driver();
        String base = Layers.id("base"), upper = Layers.id("upper"), diff = Layers.id("diff");
        byte[] deleteContent = "This file should get removed in upper!".getBytes();
        d.create(base, null, CreateOptions.NONE);
        MobyFixtures.addManyFiles(d, base, DIFF_APPLY_FILES, 3);
        MobyFixtures.pastTimestampTick();
        Layers.apply(d, base, Applier.all(Applier.createFile("file-remove.txt", deleteContent, 0755),
                root -> Files.createDirectories(root.resolve("var/lib"))));
        d.create(upper, base, CreateOptions.NONE);
        MobyFixtures.addManyFiles(d, upper, DIFF_APPLY_FILES, 6);
        Layers.apply(d, upper, Applier.all(Applier.removeAll("file-remove.txt"), Applier.removeAll("var/lib")));

        long diffSize = d.diffSize(upper, null);
        d.create(diff, base, CreateOptions.NONE);
        MobyFixtures.checkManyFiles(d, diff, DIFF_APPLY_FILES, 3);
        assertArrayEquals(deleteContent, Layers.read(d, diff, "file-remove.txt"));

        byte[] tar;
        try (InputStream in = d.diff(upper, base)) {
            tar = in.readAllBytes();
        }
        long applied = d.applyDiff(diff, base, new ByteArrayInputStream(tar));
        assertEquals(diffSize, applied, "applyDiff's result vs diffSize(upper, null), as moby checks");
        assertEquals(d.diffSize(diff, base), applied, "applyDiff's result vs diffSize of the same layer afterwards");
        MobyFixtures.checkManyFiles(d, diff, DIFF_APPLY_FILES, 6);
        Layers.mounted(d, diff, root -> {
            assertFalse(Files.exists(root.resolve("file-remove.txt"), LinkOption.NOFOLLOW_LINKS), "file-remove.txt survived the diff");
            assertFalse(Files.exists(root.resolve("var/lib"), LinkOption.NOFOLLOW_LINKS), "var/lib survived the diff");
            return null;
        });
    }

    @Test
    @Order(106)
    @DisplayName("moby: Changes")
    default void changes() {
        StorageDriver d = driver();
        String base = Layers.id("base"), upper = Layers.id("upper");
        d.create(base, null, CreateOptions.NONE);
        MobyFixtures.addManyFiles(d, base, 20, 3);
        MobyFixtures.pastTimestampTick();
        d.create(upper, base, CreateOptions.NONE);
        List<Change> expected = new ArrayList<>(MobyFixtures.changeManyFiles(d, upper, 20, 6));
        assertEquals(21, expected.size(), "moby's changeManyFiles(20) makes 21 changes");
        List<Change> actual = new ArrayList<>(d.changes(upper, base));
        expected.sort(null);
        actual.sort(null);
        assertEquals(expected, actual, "changes(upper, base)");
    }

    static void assertMode(Path p, int type, int perms, int uid, int gid) {
        Stat st = PosixFiles.statx(null, p.toString(), PosixFiles.AT_SYMLINK_NOFOLLOW);
        String what = p.getFileName() == null ? p.toString() : p.getFileName().toString();
        assertEquals(TreeDescription.typeName(type), TreeDescription.typeName(st), what + ": type");
        assertEquals(String.format("%04o", perms), String.format("%04o", st.permissions()), what + ": mode incl. setuid/setgid/sticky");
        assertEquals(uid + ":" + gid, st.uid() + ":" + st.gid(), what + ": owner");
    }

    /** Directory entries, sorted, without ext4's lost+found (moby's readDir). */
    static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("lost+found")).sorted().toList();
        }
    }
}
