package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.conformance.hostile.HostileCase;
import dev.strata.conformance.hostile.HostileCorpus;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Every case of the {@link HostileCorpus}, applied through the driver's own {@code applyDiff} into a
 * new layer on a small parent: the breakout attempts, and the engine-compat cases that hold each driver to the tar
 * semantics of containerd and moby (symlink targets verbatim, names cleaned lexically, paths through symlinks resolved
 * in the layer, exact directory modes and times, Go's stream errors). A {@link HostileCase.Expect#REFUSED} case must
 * throw a {@link StorageException} that says the layer is unchanged, and leave it exactly as it was (applyDiff is
 * all or nothing); an
 * {@link HostileCase.Expect#APPLIED_SAFELY} case must apply, as layer-archive's apply does, and the mounted layer must
 * hold what the case expects. Either way the outside directory the case aims at and the parent layer must be exactly
 * as before.
 *
 * <p>A driver whose applyDiff fails on everything would refuse every hostile tar, so each case first requires
 * that the same driver applied a benign tar the same way; if it could not, every case fails with that reason.
 */
public interface HostileInputTests extends DriverUnderTest {
    @TestFactory
    @Order(601)
    @DisplayName("hostile")
    default Stream<DynamicTest> hostileInput() {
        StorageDriver d = driver();
        String base = "hostile-base";
        d.create(base, null, CreateOptions.NONE);
        Layers.apply(d, base, Applier.all(Applier.createDir("/base-dir", 0755), Applier.createFile("/base-dir/base-file", "base", 0644)));
        Map<String, String> baseTree = Layers.describe(d, base, true);
        String control = controlApply(d, base);
        List<HostileCase> cases = HostileCorpus.cases();
        return IntStream.range(0, cases.size()).mapToObj(i -> {
            HostileCase c = cases.get(i);
            return dynamicTest(c.name(), () -> {
                if (control != null) fail(control);
                Path outside = Files.createDirectories(testRoot().resolve("outside-" + i));
                HostileCorpus.populateOutside(outside);
                Map<String, String> before = HostileCorpus.snapshot(outside);
                byte[] tar = c.tar().apply(outside);
                String id = "hostile-" + i;
                d.create(id, base, CreateOptions.NONE);
                String what = c.name() + " (" + c.mirrors() + ")";
                if (c.expect() == HostileCase.Expect.REFUSED) {
                    Map<String, String> layerBefore = Layers.describe(d, id, true);
                    try {
                        d.applyDiff(id, base, new ByteArrayInputStream(tar));
                        fail(what + " was applied; it must be refused");
                    } catch (StorageException refused) {
                        assertTrue(refused.getMessage().contains("layer " + id + " unchanged"),
                                what + ": the error must say the layer is unchanged: " + refused.getMessage());
                    } catch (RuntimeException e) {
                        fail(what + " was refused with an untyped " + e + "; expected a StorageException", e);
                    }
                    assertTrue(d.exists(id), what + ": a refused apply must leave the layer as it was, and it existed");
                    Layers.assertSameTree(layerBefore, Layers.describe(d, id, true), what + ": a refused apply changed the layer");
                } else {
                    try {
                        d.applyDiff(id, base, new ByteArrayInputStream(tar));
                    } catch (RuntimeException e) {
                        fail(what + " is applied safely by layer-archive but this driver refused it: " + e, e);
                    }
                    // the engines' semantics, seen through the mounted layer (whiteouts hide what they delete)
                    List<String> wrong = Layers.mounted(d, id, root -> c.insideProblems(root, outside));
                    if (!wrong.isEmpty()) fail(what + ": the layer does not hold what the engines make of this tar:\n  " + String.join("\n  ", wrong));
                }
                assertEquals(before, HostileCorpus.snapshot(outside), what + " changed the directory outside the layer");
                Layers.assertSameTree(baseTree, Layers.describe(d, base, true), what + " changed the parent layer");
                if (d.exists(id)) d.remove(id);
            });
        });
    }

    /** Applies a benign tar the way the cases are applied; returns why that failed, or null. */
    private static String controlApply(StorageDriver d, String base) {
        String id = "hostile-control";
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
                TarArchiveEntry dir = new TarArchiveEntry("control/");
                dir.setMode(040755);
                tar.putArchiveEntry(dir);
                tar.closeArchiveEntry();
                byte[] content = "benign".getBytes();
                TarArchiveEntry file = new TarArchiveEntry("control/file");
                file.setMode(0100644);
                file.setSize(content.length);
                tar.putArchiveEntry(file);
                tar.write(content);
                tar.closeArchiveEntry();
            }
            d.create(id, base, CreateOptions.NONE);
            d.applyDiff(id, base, new ByteArrayInputStream(bytes.toByteArray()));
            if (!"benign".equals(new String(Layers.read(d, id, "/control/file")))) return "a benign tar applied wrongly";
            d.remove(id);
            return null;
        } catch (Exception | AssertionError e) {
            return "this driver's applyDiff failed on a benign tar too, so its refusals prove nothing: " + e;
        }
    }
}
