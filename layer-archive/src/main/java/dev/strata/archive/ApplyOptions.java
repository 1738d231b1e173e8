package dev.strata.archive;

import dev.strata.api.IdTranslation;

/**
 * How a tar is applied into a layer directory.
 *
 * @param whiteouts    the on-disk whiteout format of the target driver
 * @param allowDevices whether char/block device entries may be created (only root may; a whiteout's char 0/0 for
 *                     overlay is always allowed)
 * @param ids          how the tar's owners (container ids) become the owners written: for a layer made with id maps,
 *                     {@link IdTranslation#toHost}
 */
public record ApplyOptions(WhiteoutFormat whiteouts, boolean allowDevices, IdTranslation ids) {
    public ApplyOptions {
        if (ids == null) ids = IdTranslation.NONE;
    }

    public ApplyOptions(WhiteoutFormat whiteouts, boolean allowDevices) {
        this(whiteouts, allowDevices, IdTranslation.NONE);
    }

    public static ApplyOptions of(WhiteoutFormat whiteouts) {
        return new ApplyOptions(whiteouts, dev.strata.nativeio.Kernel.isRoot());
    }

    /** The same, with the tar's owners translated by {@code ids}. */
    public ApplyOptions withIds(IdTranslation ids) {
        return new ApplyOptions(whiteouts, allowDevices, ids);
    }
}
