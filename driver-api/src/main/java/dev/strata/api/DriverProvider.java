package dev.strata.api;

import java.nio.file.Path;
import java.util.List;

/**
 * The service a driver module registers in {@code META-INF/services/dev.strata.api.DriverProvider}. Like the
 * JDK's FileSystemProvider: cheap to construct, does real work only in {@link #probe} and {@link #open}.
 */
public interface DriverProvider {
    /** The name users select it by, e.g. {@code overlay}. */
    String name();

    /** Other names it answers to, e.g. {@code overlay2}. */
    default List<String> aliases() {
        return List.of();
    }

    /** Auto-pick prefers the supported driver with the highest priority. */
    int priority();

    /** The driver-wide option keys it accepts (with their prefix, e.g. {@code vfs.size}). */
    List<OptionSpec> options();

    /**
     * Whether this kernel and the filesystem under {@code home} (or its nearest existing ancestor) support the
     * driver, and if not, why not. Must not change anything under {@code home}.
     */
    Support probe(Path home);

    /**
     * Whether layers can be made with id maps ({@link CreateOptions#idMaps}) on this kernel and the filesystem under
     * {@code home}, and how the driver shows them (idmapped mounts, a chown copy), or why not: what
     * {@code strata drivers} reports. May cost a few system calls (a user namespace, a detached mount), so it is
     * asked only when wanted, not by {@link #probe}. Must not change anything under {@code home}.
     */
    default Support idMapSupport(Path home) {
        return Support.no(name() + " cannot show layers under id maps");
    }

    /**
     * The filesystem the driver's home must be on, as {@code /proc/filesystems} and {@code mkfs.<type>} name it
     * ({@code btrfs}), or empty when any will do. Test kits make one on a loop device for a driver that names one.
     */
    default java.util.Optional<String> backingFilesystem() {
        return java.util.Optional.empty();
    }

    /** Opens the driver on its home, creating the home if needed. */
    StorageDriver open(DriverContext context);
}
