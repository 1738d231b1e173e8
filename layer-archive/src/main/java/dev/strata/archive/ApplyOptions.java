package dev.strata.archive;

/**
 * How a tar is applied into a layer directory.
 *
 * @param whiteouts    the on-disk whiteout format of the target driver
 * @param allowDevices whether char/block device entries may be created (only root may; a whiteout's char 0/0 for
 *                     overlay is always allowed)
 */
public record ApplyOptions(WhiteoutFormat whiteouts, boolean allowDevices) {
    public static ApplyOptions of(WhiteoutFormat whiteouts) {
        return new ApplyOptions(whiteouts, dev.strata.nativeio.Kernel.isRoot());
    }
}
