package dev.strata.kit;

import dev.strata.api.IdMaps;

/**
 * The id maps layers were made with, as the kit records them ({@link dev.strata.api.LayerStore#idMaps}): what a
 * storage looks up to show a layer, and its ancestors, under the layer's maps.
 */
public interface LayerIdMaps {
    /** The maps {@code id} was made with; {@link IdMaps#NONE} if none. */
    IdMaps of(String id);

    /** Whether {@code id} or one of its ancestors was made with maps: when false, no lookup along the chain is needed. */
    boolean inChain(String id);
}
