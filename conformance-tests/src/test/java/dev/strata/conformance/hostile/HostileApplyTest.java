package dev.strata.conformance.hostile;

import dev.strata.testsupport.Tmpfs;
import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.UnsafeEntryException;
import dev.strata.archive.WhiteoutFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayInputStream;
import java.util.Arrays;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The whole hostile corpus (engine-compat cases included), applied with every whiteout format, with and without device
 * nodes permitted: refusals name the entry, nothing outside the layer changes, and applied cases hold what they expect.
 */
class HostileApplyTest {
    private static Tmpfs fs;
    private static int seq;

    @BeforeAll
    static void mount() {
        fs = Tmpfs.mount("256m");
    }

    @AfterAll
    static void unmount() {
        if (fs != null) fs.close();
    }

    @TestFactory
    List<DynamicTest> corpus() {
        List<DynamicTest> tests = new ArrayList<>();
        for (boolean devices : new boolean[]{false, true}) {
            for (WhiteoutFormat f : WhiteoutFormat.values()) {
                for (HostileCase c : HostileCorpus.cases(devices)) {
                    if (devices && !c.name().startsWith("device-")) continue;
                    tests.add(DynamicTest.dynamicTest(c.name() + " [" + f + (devices ? ", devices" : "") + "]",
                            () -> run(c, new ApplyOptions(f, devices), false)));
                    if (f == WhiteoutFormat.OVERLAY) {
                        // a tar file is read through its channel (direct buffer, copy_file_range): the same rules apply
                        tests.add(DynamicTest.dynamicTest(c.name() + " [" + f + (devices ? ", devices" : "") + ", from a file]",
                                () -> run(c, new ApplyOptions(f, devices), true)));
                    }
                }
            }
        }
        return tests;
    }

    @Test
    void aFailedApplyChangesNothingOutsideAndNamesTheEntry() throws Exception {
        Path layer = fs.dir("layer"), outside = fs.dir("outside");
        HostileCorpus.populateOutside(outside);
        Map<String, String> before = HostileCorpus.snapshot(outside);
        Path src = fs.dir("src");
        Files.writeString(src.resolve("a"), "a".repeat(10000));
        Files.writeString(src.resolve("b"), "b".repeat(10000));
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        LayerArchive.writeTree(src, tar);
        byte[] cut = Arrays.copyOf(tar.toByteArray(), 512 + 512 + 10240 + 512 + 4000); // "./", a, then inside b's data
        StorageException e = assertThrows(StorageException.class,
                () -> LayerArchive.apply(layer, new ByteArrayInputStream(cut), ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE)));
        assertTrue(e.getMessage().contains("\"b\""), e.getMessage());
        assertEquals(before, HostileCorpus.snapshot(outside));
    }

    private static java.io.InputStream open(byte[] tar, boolean viaFile, Path box) throws Exception {
        if (!viaFile) return new ByteArrayInputStream(tar);
        Path f = box.resolve("case.tar");
        Files.write(f, tar);
        return new java.io.FileInputStream(f.toFile());
    }

    private static void run(HostileCase c, ApplyOptions options, boolean viaFile) throws Exception {
        Path box = fs.dir("case-" + (seq++));
        Path layer = Files.createDirectories(box.resolve("layer"));
        Path outside = Files.createDirectories(box.resolve("outside"));
        HostileCorpus.populateOutside(outside);
        Map<String, String> before = HostileCorpus.snapshot(outside);
        Map<String, String> boxBefore = snapshotWithoutLayer(box);
        byte[] tar = c.tar().apply(outside);
        if (c.expect() == HostileCase.Expect.REFUSED) {
            StorageException e;
            try (java.io.InputStream in = open(tar, viaFile, box)) {
                e = assertThrows(StorageException.class, () -> LayerArchive.apply(layer, in, options), c.name() + " was applied");
            }
            // the corpus contract asks for a StorageException naming the entry; Strata's own apply is stricter
            UnsafeEntryException u = assertInstanceOf(UnsafeEntryException.class, e, c.name() + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(u.entry().isEmpty() ? "not a valid tar stream: " : "refused tar entry \"" + u.entry() + "\""),
                    c.name() + ": " + e.getMessage());
        } else {
            try (java.io.InputStream in = open(tar, viaFile, box)) {
                LayerArchive.apply(layer, in, options);
            } catch (StorageException e) {
                fail(c.name() + " should apply safely but failed: " + e.getMessage(), e);
            }
            // what the layer holds, where a whiteout is a deletion (elsewhere it is a marker the mounted view hides)
            if (options.whiteouts() == WhiteoutFormat.DELETE_IN_PLACE) {
                List<String> wrong = c.insideProblems(layer, outside);
                assertTrue(wrong.isEmpty(), c.name() + ": " + wrong);
            }
        }
        assertEquals(before, HostileCorpus.snapshot(outside), c.name() + " changed the outside directory");
        assertEquals(boxBefore, snapshotWithoutLayer(box), c.name() + " changed something next to the layer");
    }

    private static Map<String, String> snapshotWithoutLayer(Path box) {
        Map<String, String> s = new java.util.TreeMap<>(HostileCorpus.snapshot(box));
        s.keySet().removeIf(k -> k.equals("layer") || k.startsWith("layer/") || k.isEmpty() || k.equals("case.tar"));
        return s;
    }
}
