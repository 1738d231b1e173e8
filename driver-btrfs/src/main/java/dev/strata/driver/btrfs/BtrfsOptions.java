package dev.strata.driver.btrfs;

import dev.strata.api.DriverOptions;
import dev.strata.api.OptionSpec;

import java.util.List;

/**
 * Driver-wide options. {@code btrfs.min_space} is moby's: the smallest per-layer {@code size} accepted, and, when
 * set, quotas are turned on at open. {@code btrfs.size} is the default limit of read-write layers, as
 * {@code overlay.size} and {@code vfs.size} are for theirs.
 *
 * @param defaultSize limit of a read-write layer created without {@code size}; 0 for none
 * @param minSpace    smallest {@code size} a layer may be given; 0 for no floor
 */
record BtrfsOptions(long defaultSize, long minSpace) {
    static final List<OptionSpec> SPECS = List.of(
            OptionSpec.size("btrfs.size", "default size limit of read-write layers (a qgroup limit on referenced bytes)"),
            OptionSpec.size("btrfs.min_space", "the smallest size a layer may be given; turns quotas on (as moby's)"));

    static BtrfsOptions from(DriverOptions o) {
        return new BtrfsOptions(o.size("btrfs.size").orElse(0L), o.size("btrfs.min_space").orElse(0L));
    }
}
