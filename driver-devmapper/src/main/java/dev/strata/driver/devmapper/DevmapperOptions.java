package dev.strata.driver.devmapper;

import dev.strata.api.DriverOptions;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.OptionSpec;
import dev.strata.api.Sizes;

import java.util.List;

/**
 * Docker's {@code dm.*} options, checked. Defaults are Docker's, except the base filesystem: ext4 unless
 * {@code dm.fs=xfs}. direct-lvm ({@code dm.directlvm_*}, {@code dm.thinp_*}) is not offered: it runs LVM's tools;
 * make the pool with LVM and pass {@code dm.thinpooldev}. {@code dm.libdm_log_level} has no libdm to configure.
 *
 * @param deferredRemoval  null: on when the kernel supports it
 * @param deferredDeletion null: on when deferred removal is on
 */
record DevmapperOptions(long baseSize, boolean baseSizeGiven, long loopDataSize, long loopMetadataSize, String fs,
                        List<String> mkfsArgs, String mountOptions, String dataDevice, String metadataDevice,
                        String thinPoolDevice, boolean blkDiscard, long blockSize, Boolean deferredRemoval,
                        Boolean deferredDeletion, int minFreeSpacePercent, Long xfsNospaceMaxRetries) {
    static final long DEFAULT_BASE_SIZE = 10L << 30, DEFAULT_DATA_SIZE = 100L << 30, DEFAULT_METADATA_SIZE = 2L << 30,
            DEFAULT_BLOCK_SIZE = 64 << 10, MAX_METADATA_SIZE = 16L << 30;
    static final int DEFAULT_MIN_FREE_SPACE = 10;

    static final List<OptionSpec> SPECS = List.of(
            OptionSpec.size("dm.basesize", "size of the base device, and so the largest a layer's filesystem can be (default 10G)"),
            OptionSpec.size("dm.loopdatasize", "size of the sparse data file of a loop-backed pool (default 100G)"),
            OptionSpec.size("dm.loopmetadatasize", "size of the sparse metadata file of a loop-backed pool (default 2G)"),
            OptionSpec.string("dm.fs", "filesystem of the base device: ext4 (default) or xfs"),
            OptionSpec.string("dm.mkfsarg", "extra argument to mkfs for the base device (repeatable)"),
            OptionSpec.string("dm.mountopt", "extra mount options for layers (repeatable, joined with ',')"),
            OptionSpec.string("dm.datadev", "block device for the pool's data (with dm.metadatadev)"),
            OptionSpec.string("dm.metadatadev", "block device for the pool's metadata (with dm.datadev)"),
            OptionSpec.string("dm.thinpooldev", "an existing thin pool to use, e.g. /dev/mapper/vg-thinpool"),
            OptionSpec.bool("dm.blkdiscard", "discard a device's blocks before deleting it (default true for loop files)"),
            OptionSpec.size("dm.blocksize", "pool block size, 64K to 1G in multiples of 64K (default 64K)"),
            OptionSpec.bool("dm.use_deferred_removal", "let the kernel remove a busy device when it is closed (default: when supported)"),
            OptionSpec.bool("dm.use_deferred_deletion", "delete a busy thin device later (default: with deferred removal)"),
            OptionSpec.percent("dm.min_free_space", "refuse new layers when less than this part of the pool is free (default 10%)"),
            OptionSpec.integer("dm.xfs_nospace_max_retries", "xfs: retries of a metadata write on ENOSPC before shutting down"),
            OptionSpec.bool("dm.override_udev_sync_check", "accepted for Docker compatibility; Strata makes device nodes itself"));

    static DevmapperOptions from(String driver, DriverOptions o) {
        long base = o.size("dm.basesize").orElse(DEFAULT_BASE_SIZE);
        if (base < (1 << 20)) throw bad(driver, "dm.basesize", "dm.basesize " + Sizes.human(base) + " is too small (at least 1M)");
        base = base / 512 * 512;
        long blockSize = o.size("dm.blocksize").orElse(DEFAULT_BLOCK_SIZE);
        if (blockSize < (64 << 10) || blockSize > (1L << 30) || blockSize % (64 << 10) != 0) {
            throw bad(driver, "dm.blocksize", "dm.blocksize " + o.string("dm.blocksize").orElse("") + " must be 64K to 1G in multiples of 64K");
        }
        long data = o.size("dm.loopdatasize").orElse(DEFAULT_DATA_SIZE);
        if (data < 2 * blockSize || data < (1 << 20)) {
            throw bad(driver, "dm.loopdatasize", "dm.loopdatasize " + Sizes.human(data) + " is too small for a pool (at least 1M and two blocks)");
        }
        data = data / blockSize * blockSize;
        long meta = o.size("dm.loopmetadatasize").orElse(DEFAULT_METADATA_SIZE);
        if (meta < (2 << 20) || meta > MAX_METADATA_SIZE) {
            throw bad(driver, "dm.loopmetadatasize", "dm.loopmetadatasize " + Sizes.human(meta) + " must be between 2M and 16G (the thin-pool metadata limit)");
        }
        String fs = o.string("dm.fs").orElse("ext4");
        if (!fs.equals("ext4") && !fs.equals("xfs")) throw bad(driver, "dm.fs", "devmapper: Unsupported filesystem " + fs + " (dm.fs is ext4 or xfs)");
        String pool = o.string("dm.thinpooldev").map(s -> s.startsWith("/dev/mapper/") ? s.substring(12) : s).orElse(null);
        if (pool != null && (pool.isEmpty() || pool.contains("/"))) throw bad(driver, "dm.thinpooldev", "dm.thinpooldev \"" + pool + "\" is not a dm device name");
        String dataDev = o.string("dm.datadev").orElse(null), metaDev = o.string("dm.metadatadev").orElse(null);
        if (pool != null && (dataDev != null || metaDev != null)) {
            throw bad(driver, "dm.thinpooldev", "dm.thinpooldev cannot be combined with dm.datadev or dm.metadatadev");
        }
        if ((dataDev == null) != (metaDev == null)) {
            throw bad(driver, dataDev == null ? "dm.metadatadev" : "dm.datadev", "dm.datadev and dm.metadatadev must be given together");
        }
        Boolean removal = o.bool("dm.use_deferred_removal").orElse(null);
        Boolean deletion = o.bool("dm.use_deferred_deletion").orElse(null);
        if (Boolean.TRUE.equals(deletion) && Boolean.FALSE.equals(removal)) {
            throw bad(driver, "dm.use_deferred_deletion", "devmapper: Deferred deletion can not be enabled as deferred removal is not enabled. "
                    + "Enable deferred removal using --storage-opt dm.use_deferred_removal=true parameter");
        }
        Long retries = o.integer("dm.xfs_nospace_max_retries").orElse(null);
        if (retries != null && retries < 0) throw bad(driver, "dm.xfs_nospace_max_retries", "dm.xfs_nospace_max_retries must not be negative");
        if (retries != null && !fs.equals("xfs")) throw bad(driver, "dm.xfs_nospace_max_retries", "dm.xfs_nospace_max_retries needs dm.fs=xfs");
        boolean discard = o.bool("dm.blkdiscard").orElse(pool == null && dataDev == null);
        String mountOpts = String.join(",", o.all("dm.mountopt").stream().filter(s -> !s.isBlank()).toList());
        return new DevmapperOptions(base, o.has("dm.basesize"), data, meta, fs, List.copyOf(o.all("dm.mkfsarg")),
                mountOpts, dataDev, metaDev, pool, discard, blockSize, removal, deletion,
                o.percent("dm.min_free_space").orElse(DEFAULT_MIN_FREE_SPACE), retries);
    }

    boolean loopBacked() {
        return thinPoolDevice == null && dataDevice == null;
    }

    private static InvalidOptionException bad(String driver, String key, String why) {
        return new InvalidOptionException(driver, key, why);
    }
}
