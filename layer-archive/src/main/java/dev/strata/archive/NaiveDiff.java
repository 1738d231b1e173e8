package dev.strata.archive;

import dev.strata.api.Change;
import dev.strata.api.IdTranslation;
import dev.strata.api.LayerStore;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * diff, changes and diffSize for a driver with no native way (moby's NaiveDiffDriver): layers are taken
 * with {@link LayerStore#get} (mounted where the driver mounts) and released with {@link LayerStore#put}, and trees
 * are compared. Owners are read as container ids: a layer made with id maps shows host ids, translated back by its
 * maps ({@link LayerStore#idMaps}).
 *
 * <ul>
 *   <li>{@link #diff}: no parent, the whole tree ({@link LayerArchive#writeTree}); with a parent,
 *   {@link TreeChanges#between} then {@link LayerArchive#writeChanges}. The layer stays taken until the returned
 *   stream is closed (the parent only while changes are computed). Unlike moby, closing does not sleep to the next
 *   second: our tars keep mtimes in nanoseconds, so a same-second change is still seen.</li>
 *   <li>{@link #diffSize}: {@link TreeChanges#size} of the changes; no parent: the size of every non-directory in
 *   the layer, hardlinks once, in a single walk.</li>
 * </ul>
 * Applying is the driver kit's: it stages a copy of the layer and swaps it in whole.
 */
public final class NaiveDiff implements LayerDiffs {
    private final LayerStore layers;

    public NaiveDiff(LayerStore layers) {
        this.layers = layers;
    }

    private static boolean none(String parent) {
        return parent == null || parent.isEmpty();
    }

    /** How a layer's owners, as {@link LayerStore#get} shows them, read as container ids: what its diff carries. */
    private IdTranslation ids(String id) {
        return IdTranslation.toContainer(layers.idMaps(id));
    }

    /**
     * How the parent's owners read as the layer shows them: trees are compared the way the layer's container sees
     * them, so an id outside the layer's map is the overflow id on both sides, not a change (a chown copy could not
     * keep it either).
     */
    private IdTranslation parentAsLayer(String id, String parent) {
        return new IdTranslation(layers.idMaps(parent), layers.idMaps(id));
    }

    @Override
    public InputStream diff(String id, String parent) {
        IdTranslation ids = ids(id);
        Path layerFs = layers.get(id, "");
        boolean handedOver = false;
        try {
            InputStream s;
            if (none(parent)) {
                s = LayerArchive.stream("strata-diff " + id, out -> LayerArchive.writeTree(layerFs, ids, out), () -> layers.put(id));
            } else {
                List<Change> changes;
                Path parentFs = layers.get(parent, "");
                try {
                    changes = TreeChanges.between(layerFs, IdTranslation.NONE, parentFs, parentAsLayer(id, parent));
                } finally {
                    layers.put(parent);
                }
                s = LayerArchive.stream("strata-diff " + id, out -> LayerArchive.writeChanges(layerFs, ids, changes, out), () -> layers.put(id));
            }
            handedOver = true;
            return s;
        } finally {
            if (!handedOver) layers.put(id);
        }
    }

    @Override
    public List<Change> changes(String id, String parent) {
        Path layerFs = layers.get(id, "");
        try {
            if (none(parent)) return TreeChanges.between(layerFs, null);
            Path parentFs = layers.get(parent, "");
            try {
                return TreeChanges.between(layerFs, IdTranslation.NONE, parentFs, parentAsLayer(id, parent));
            } finally {
                layers.put(parent);
            }
        } finally {
            layers.put(id);
        }
    }

    @Override
    public long diffSize(String id, String parent) {
        Path layerFs = layers.get(id, "");
        try {
            if (none(parent)) return dev.strata.nativeio.Trees.size(layerFs);
            Path parentFs = layers.get(parent, "");
            try {
                return TreeChanges.size(layerFs, TreeChanges.between(layerFs, IdTranslation.NONE, parentFs, parentAsLayer(id, parent)));
            } finally {
                layers.put(parent);
            }
        } finally {
            layers.put(id);
        }
    }
}
