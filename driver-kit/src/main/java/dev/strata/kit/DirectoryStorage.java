package dev.strata.kit;

import dev.strata.archive.LayerDiffs;
import dev.strata.api.LayerStore;
import dev.strata.archive.NaiveDiff;

/**
 * A storage whose layer is a plain directory (vfs's copy, btrfs's subvolume): there is nothing to mount, so a layer
 * is always ready at its {@link #root}, and diffs compare the trees.
 */
public interface DirectoryStorage extends LayerStorage {
    @Override
    default void mount(String id, String mountLabel) {
    }

    @Override
    default void unmount(String id) {
    }

    @Override
    default boolean needsMount(String id) {
        return false;
    }

    @Override
    default boolean isMounted(String id) {
        return true;
    }

    @Override
    default LayerDiffs diffs(LayerStore layers) {
        return new NaiveDiff(layers);
    }
}
