package dev.strata.driver.overlay;

import dev.strata.nativeio.Trees;
import dev.strata.api.Change;
import dev.strata.api.DiffDriver;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.LayerIds;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.NaiveDiff;
import dev.strata.archive.TreeChanges;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.Kernel;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * diff, changes, applyDiff and diffSize of overlay layers. Natively, straight from a layer's diff dir (its
 * overlay upper), when the probe found that safe and the parent asked for is the layer's own parent; otherwise
 * through {@link NaiveDiff}, which mounts and compares trees, as moby's overlay2 does.
 */
final class OverlayDiff implements DiffDriver {
    private final OverlayDriver driver;
    private final Layout layout;
    private final boolean nativeDiff;
    private final WhiteoutFormat onDisk;
    private final IncompleteLayers incomplete;
    private final NaiveDiff naive;

    OverlayDiff(OverlayDriver driver, Layout layout, boolean nativeDiff, boolean userxattr, IncompleteLayers incomplete) {
        this.driver = driver;
        this.layout = layout;
        this.nativeDiff = nativeDiff;
        this.onDisk = userxattr ? WhiteoutFormat.OVERLAY_USERXATTR : WhiteoutFormat.OVERLAY;
        this.incomplete = incomplete;
        this.naive = new NaiveDiff(driver, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
    }

    WhiteoutFormat onDisk() {
        return onDisk;
    }

    /** Whether the native path applies: native diff is safe here and {@code parent} is the layer's own parent. */
    private boolean useNative(String op, String id, String parent) {
        LayerIds.check(op, id);
        String p = LayerIds.checkParent(op, parent);
        driver.requireLayer(op, id);
        if (!nativeDiff) return false;
        List<String> lowers = layout.lowerEntries(id);
        if (p == null) return lowers.isEmpty();
        return !lowers.isEmpty() && layout.idOfLower(lowers.getFirst()).equals(p);
    }

    private List<Path> lowerDiffs(String id) {
        List<String> entries = layout.lowerEntries(id);
        List<Path> out = new ArrayList<>(entries.size());
        for (String e : entries) out.add(layout.resolveLower(e));
        return out;
    }

    @Override
    public InputStream diff(String id, String parent) {
        if (!useNative("diff", id, parent)) return naive.diff(id, parent);
        Path upper = layout.diff(id);
        List<Path> lowers = lowerDiffs(id);
        return ProducedStream.start("overlay-diff-" + id, out -> LayerArchive.writeUpper(upper, onDisk, lowers, out), null);
    }

    @Override
    public List<Change> changes(String id, String parent) {
        if (!useNative("changes", id, parent)) return naive.changes(id, parent);
        return TreeChanges.ofUpper(layout.diff(id), onDisk, lowerDiffs(id));
    }

    /**
     * Native: untars into the diff dir with overlay whiteouts (char 0/0, {@code <prefix>.overlay.opaque}), without
     * mounting; otherwise through the mounted layer. Either way the layer is marked incomplete until the tar is fully
     * applied, so a crash or an error leaves a layer that {@code exists} does not report and the next open removes.
     */
    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        boolean nativePath = useNative("applyDiff", id, parent);
        incomplete.mark(id);
        long size;
        if (nativePath) {
            LayerArchive.apply(layout.diff(id), diff, new ApplyOptions(onDisk, Kernel.isRoot()));
            size = Trees.size(layout.diff(id));
        } else {
            size = naive.applyDiff(id, parent, diff);
        }
        incomplete.clear(id);
        return size;
    }

    @Override
    public long diffSize(String id, String parent) {
        if (!useNative("diffSize", id, parent)) return naive.diffSize(id, parent);
        return Trees.size(layout.diff(id));
    }
}
