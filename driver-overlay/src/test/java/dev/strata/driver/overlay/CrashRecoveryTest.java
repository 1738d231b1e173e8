package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.LayerUnknownException;
import dev.strata.nativeio.MountInfo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a crash leaves behind is never reported as a layer, and the next open removes it. */
class CrashRecoveryTest {
    @TempDir
    Path tmp;

    @Test
    void leftoversOfACrashAreHiddenAndRemovedAtTheNextOpen() throws Exception {
        try (ScratchFs fs = ScratchFs.mount(tmp)) {
            Path home = fs.root.resolve("overlay");
            OverlayDriver d = ScratchFs.open(home);
            d.create("base", null, CreateOptions.NONE);
            d.create("half-applied", "base", CreateOptions.NONE);
            d.createReadWrite("mounted", "base", CreateOptions.NONE);
            d.get("mounted", "");

            // A crash inside create: the staging dir and its short link exist, the rename did not happen.
            Path staging = Files.createDirectories(home.resolve(".staging-ghost-ABCDEFGH/diff"));
            Files.createSymbolicLink(home.resolve("l/GHOSTGHOSTGHOSTGHOSTGHOSTG"), Path.of("../ghost/diff"));
            // A crash inside remove: renamed away, not yet deleted.
            Files.createDirectories(home.resolve(".removing-old-ABCDEFGH/diff/some/dirs"));
            // A crash inside applyDiff: the layer is marked incomplete.
            new IncompleteLayers(home.resolve(".incomplete")).mark("half-applied");
            // A crash inside the probe.
            Path probe = Files.createDirectories(home.resolve(OverlayProbe.PROBE_PREFIX + "X/merged"));

            assertFalse(d.exists("half-applied"), "an incomplete layer is not reported");
            assertFalse(d.exists("ghost"));
            assertEquals(List.of("base", "mounted"), d.layers().stream().sorted().toList());
            assertThrows(LayerUnknownException.class, () -> d.get("half-applied", ""));

            OverlayDriver reopened = ScratchFs.open(home);
            assertFalse(Files.exists(staging.getParent()));
            assertFalse(Files.exists(home.resolve("l/GHOSTGHOSTGHOSTGHOSTGHOSTG"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.exists(home.resolve(".removing-old-ABCDEFGH")));
            assertFalse(Files.exists(home.resolve("half-applied")), "the incomplete layer is removed");
            assertFalse(Files.exists(probe.getParent()));
            assertTrue(reopened.exists("base") && reopened.exists("mounted"));
            assertEquals(1, reopened.references("mounted"), "a layer mounted before the 'crash' keeps its count");
            try (var links = Files.list(home.resolve("l"))) {
                assertEquals(2, links.count(), "the short links of base and mounted remain");
            }
            reopened.cleanup();
            assertTrue(MountInfo.under(home).isEmpty());
        }
    }
}
