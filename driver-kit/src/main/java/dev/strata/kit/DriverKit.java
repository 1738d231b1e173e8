package dev.strata.kit;

import dev.strata.api.StorageDriver;

/**
 * Makes a {@link StorageDriver} out of a driver's {@link LayerStorage}. A driver's
 * {@link dev.strata.api.DriverProvider#open} returns {@code DriverKit.wrap(new MyStorage(context))}, and gets, without
 * writing any of it:
 * <ul>
 *   <li>id and parent validation ({@link dev.strata.api.LayerIds}; a null or empty parent means none, null options
 *   mean none);</li>
 *   <li>existence, parent and children checks, the children from an index kept next to the layers, so checking
 *   costs the number of children, not of layers;</li>
 *   <li>crash marks and the failure policy: a create, apply or remove that fails, is interrupted or is killed
 *   leaves what existed before it, and the next open (or the next operation on that id) finishes or undoes it;</li>
 *   <li>all-or-nothing applyDiff through a staged copy, refused on a layer with children or one that is mounted;</li>
 *   <li>locks across threads and processes, and reference counts (kept in the {@link RunDirectory}) around
 *   the storage's mount and unmount.</li>
 * </ul>
 * The kit keeps its own state in {@code <home>/.strata}: {@code lock}, {@code incomplete/}, {@code applying/},
 * {@code children/}.
 */
public final class DriverKit {
    /** The kit's directory in a driver's home. */
    public static final String STATE_DIR = ".strata";

    private DriverKit() {
    }

    /** The storage as a whole driver. Finishes what a crash left (marks) before it returns. */
    public static StorageDriver wrap(LayerStorage storage) {
        return new KitDriver(storage);
    }

    /** The storage behind a driver made by {@link #wrap}, for a driver's own tests; null for any other driver. */
    public static <T extends LayerStorage> T storage(StorageDriver driver, Class<T> type) {
        return driver instanceof KitDriver k && type.isInstance(k.storage) ? type.cast(k.storage) : null;
    }
}
