package dev.strata.driver.btrfs;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.kit.DriverKit;
import dev.strata.nativeio.StatFs;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The btrfs driver's ServiceLoader entry. It runs only where its home is on btrfs, as moby's does. */
public final class BtrfsProvider implements DriverProvider {
    public static final String NAME = "btrfs";
    /** Below overlay (50) and aufs (40), above devicemapper (20) and vfs (10), as Docker and containers/storage rank them. */
    public static final int PRIORITY = 30;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public List<OptionSpec> options() {
        return BtrfsOptions.SPECS;
    }

    @Override
    public Optional<String> backingFilesystem() {
        return Optional.of(NAME);
    }

    /** The filesystem magic of the home, or of its nearest existing ancestor; nothing is made or changed. */
    @Override
    public Support probe(Path home) {
        StatFs fs;
        try {
            fs = StatFs.ofNearest(home);
        } catch (RuntimeException e) {
            return Support.no("cannot tell which filesystem " + home + " is on: " + e.getMessage());
        }
        if ((fs.type() & 0xFFFFFFFFL) != StatFs.BTRFS_MAGIC) {
            return Support.no(home + " is on " + fs.typeName() + ", not btrfs (filesystem magic 0x"
                    + Long.toHexString(fs.type() & 0xFFFFFFFFL) + ", btrfs is 0x9123683e)");
        }
        return Support.yes("a subvolume per layer, a snapshot per child");
    }

    @Override
    public StorageDriver open(DriverContext context) {
        return DriverKit.wrap(new BtrfsStorage(context.home(), BtrfsOptions.from(context.options())));
    }
}
