package dev.strata.kit;

import dev.strata.api.LayerIds;
import dev.strata.api.MountSpecs;

import java.util.List;

/**
 * The kit's driver for a storage that describes its mounts ({@link MountSpecs}): the id is checked and must name a
 * complete layer, as for every other call, before the storage describes it.
 */
final class DescribingKitDriver extends KitDriver implements MountSpecs {
    private final MountSpecs specs;

    DescribingKitDriver(LayerStorage storage) {
        super(storage);
        this.specs = (MountSpecs) storage;
    }

    @Override
    public List<MountSpec> mountSpecs(String id, boolean readOnly) {
        requireExists("mountSpecs", LayerIds.check("mountSpecs", id));
        return specs.mountSpecs(id, readOnly);
    }
}
