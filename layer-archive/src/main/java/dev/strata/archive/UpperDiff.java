package dev.strata.archive;

import dev.strata.api.Change;
import dev.strata.api.IdTranslation;
import dev.strata.api.LayerStore;
import dev.strata.nativeio.Trees;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * diff, changes and diffSize for a driver that keeps each layer's own changes in an upper directory with on-disk
 * whiteouts (overlay's diff dir, aufs's branch): read straight from that directory when the parent asked for is the
 * layer's own parent (both none counts), since then the directory alone is the diff; otherwise through
 * {@link NaiveDiff}, which mounts and compares trees, as moby's overlay2 and aufs do. The one place that decides
 * between the two ({@link #isNative}).
 */
public final class UpperDiff implements LayerDiffs {
    /**
     * What the driver knows of a layer's upper directory.
     *
     * @param upper  the layer's upper directory
     * @param parent the layer's own parent, or null for a base layer
     * @param lowers the upper directories of the layer's ancestors, nearest first
     */
    public record Uppers(Function<String, Path> upper, Function<String, String> parent, Function<String, List<Path>> lowers) {
    }

    private final Uppers uppers;
    private final WhiteoutFormat onDisk;
    private final boolean nativeAllowed;
    private final Set<String> notContent;
    private final NaiveDiff naive;
    private final LayerStore layers;

    /**
     * @param layers        the driver as callers see it (get/put are reference-counted), for the naive path
     * @param onDisk        the whiteout format in the upper directories
     * @param nativeAllowed false when reading uppers is unsafe here (overlay's probe found redirect_dir or metacopy)
     * @param notContent    top-level names in an upper that are the filesystem's bookkeeping, not layer content
     *                      (aufs's {@code .wh..wh.*}); left out of sizes
     */
    public UpperDiff(LayerStore layers, Uppers uppers, WhiteoutFormat onDisk, boolean nativeAllowed, Set<String> notContent) {
        this.uppers = uppers;
        this.onDisk = onDisk;
        this.nativeAllowed = nativeAllowed;
        this.notContent = Set.copyOf(notContent);
        this.naive = new NaiveDiff(layers);
        this.layers = layers;
    }

    /** Whether {@code parent} is the layer's own, so that its upper directory alone is the diff. */
    public boolean isNative(String id, String parent) {
        return nativeAllowed && Objects.equals(uppers.parent().apply(id), parent == null || parent.isEmpty() ? null : parent);
    }

    public WhiteoutFormat onDisk() {
        return onDisk;
    }

    @Override
    public InputStream diff(String id, String parent) {
        if (!isNative(id, parent)) return naive.diff(id, parent);
        // An upper of a layer made with id maps holds host ids: the diff carries container ids.
        IdTranslation ids = IdTranslation.toContainer(layers.idMaps(id));
        return LayerArchive.upper(uppers.upper().apply(id), onDisk, uppers.lowers().apply(id), ids, null);
    }

    @Override
    public List<Change> changes(String id, String parent) {
        if (!isNative(id, parent)) return naive.changes(id, parent);
        return TreeChanges.ofUpper(uppers.upper().apply(id), onDisk, uppers.lowers().apply(id)); // sorted
    }

    @Override
    public long diffSize(String id, String parent) {
        if (!isNative(id, parent)) return naive.diffSize(id, parent);
        return notContent.isEmpty() ? Trees.size(uppers.upper().apply(id)) : Trees.size(uppers.upper().apply(id), notContent);
    }
}
