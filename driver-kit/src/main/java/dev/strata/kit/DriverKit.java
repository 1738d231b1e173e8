package dev.strata.kit;

import dev.strata.api.MountSpecs;
import dev.strata.api.StorageDriver;

/**
 * Makes a {@link StorageDriver} out of a driver's {@link LayerStorage}. A driver's
 * {@link dev.strata.api.DriverProvider#open} returns {@code DriverKit.wrap(new MyStorage(context))}, and gets, without
 * writing any of it:
 * <ul>
 *   <li>id and parent validation ({@link dev.strata.api.LayerIds}; a null or empty parent means none, null options
 *   mean none);</li>
 *   <li>existence, parent and children checks, the children from an index, so checking costs the number of
 *   children, not of layers;</li>
 *   <li>crash marks and the failure policy: a create, apply or remove that fails, is interrupted or is killed
 *   leaves what existed before it, and the next open (or the next operation on that id) finishes or undoes it;</li>
 *   <li>all-or-nothing applyDiff through a staged copy, refused on a layer with children or one that is mounted;</li>
 *   <li>locks across threads and processes, and reference counts (kept in the {@link RunDirectory}) around
 *   the storage's mount and unmount.</li>
 * </ul>
 * A storage that also implements {@link MountSpecs} makes a driver that does, with the id checked by the kit.
 * The kit keeps what lives as long as the processes using the home in the home's {@link RunDirectory} (a tmpfs):
 * the home lock, the crash marks ({@code incomplete/}, {@code applying/}), the reference counts ({@code refs/}), and
 * the children index ({@code children/}, a cache of the storage's parents, built again after a reboot, pruned by each
 * remove), and which home all that belongs to ({@code home-id}, {@link HomeIdentity}). A mark must outlive the
 * process that made it, not a reboot: every storage's commit point is atomic, so after a reboot nothing half made is
 * ever reported, and what a reboot cut short is swept at the first open after it, where the storage finds it by
 * looking ({@link LayerStorage#cutShort}), or else when its id is next made, applied or removed.
 */
public final class DriverKit {
    /** The kit's directory in a driver's home. */
    public static final String STATE_DIR = ".strata";
    /** In the run directory: the home lock, the marks of creates and removes, and of applies, in progress. */
    public static final String HOME_LOCK = "lock", INCOMPLETE = "incomplete", APPLYING = "applying";

    private DriverKit() {
    }

    /** The storage as a whole driver. Finishes what a crash left (marks) before it returns. */
    public static StorageDriver wrap(LayerStorage storage) {
        return storage instanceof MountSpecs ? new DescribingKitDriver(storage) : new KitDriver(storage);
    }

    /** The storage behind a driver made by {@link #wrap}, for a driver's own tests; null for any other driver. */
    public static <T extends LayerStorage> T storage(StorageDriver driver, Class<T> type) {
        return driver instanceof KitDriver k && type.isInstance(k.storage) ? type.cast(k.storage) : null;
    }
}
