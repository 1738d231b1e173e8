package dev.strata.driver.devmapper;

import dev.strata.api.Sizes;
import dev.strata.api.StatusEntry;
import dev.strata.nativeio.StatFs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The status pairs of moby's devicemapper driver, in its order (without libdm's udev and library lines). */
final class DevmapperStatus {
    private DevmapperStatus() {
    }

    static List<StatusEntry> of(DeviceSet ds) {
        PoolStatus s = ds.pool.status();
        long block = ds.pool.dataBlockBytes();
        long dataUsed = s.dataUsed() * block, dataTotal = s.dataTotal() * block;
        long metaUsed = s.metadataUsed() * PoolStatus.METADATA_BLOCK, metaTotal = s.metadataTotal() * PoolStatus.METADATA_BLOCK;
        long dataAvail = available(dataTotal - dataUsed, ds.pool.dataLoopFile());
        long metaAvail = available(metaTotal - metaUsed, ds.pool.metadataLoopFile());
        DevInfo base = ds.info("");
        List<StatusEntry> out = new ArrayList<>();
        out.add(new StatusEntry("Pool Name", ds.pool.name()));
        out.add(new StatusEntry("Pool Blocksize", Sizes.human(block)));
        out.add(new StatusEntry("Base Device Size", Sizes.human(base == null ? ds.opts.baseSize() : base.size())));
        out.add(new StatusEntry("Backing Filesystem", ds.baseFilesystem()));
        // moby: "Data file" is the device under the pool, "Data loop file" the file behind a loop device
        String dataDev = ds.opts.dataDevice() != null ? ds.opts.dataDevice() : loopOf(ds.pool.dataLoopFile());
        String metaDev = ds.opts.metadataDevice() != null ? ds.opts.metadataDevice() : loopOf(ds.pool.metadataLoopFile());
        if (dataDev != null) out.add(new StatusEntry("Data file", dataDev));
        if (metaDev != null) out.add(new StatusEntry("Metadata file", metaDev));
        if (ds.pool.dataLoopFile() != null) out.add(new StatusEntry("Data loop file", ds.pool.dataLoopFile().toString()));
        if (ds.pool.metadataLoopFile() != null) out.add(new StatusEntry("Metadata loop file", ds.pool.metadataLoopFile().toString()));
        out.add(new StatusEntry("Data Space Used", Sizes.human(dataUsed)));
        out.add(new StatusEntry("Data Space Total", Sizes.human(dataTotal)));
        out.add(new StatusEntry("Data Space Available", Sizes.human(dataAvail)));
        out.add(new StatusEntry("Metadata Space Used", Sizes.human(metaUsed)));
        out.add(new StatusEntry("Metadata Space Total", Sizes.human(metaTotal)));
        out.add(new StatusEntry("Metadata Space Available", Sizes.human(metaAvail)));
        out.add(new StatusEntry("Thin Pool Minimum Free Space", Sizes.human(dataTotal * ds.opts.minFreeSpacePercent() / 100)));
        out.add(new StatusEntry("Pool Mode", s.mode() + (s.needsCheck() ? " (needs_check)" : "")));
        out.add(new StatusEntry("Deferred Removal Enabled", Boolean.toString(ds.deferredRemove)));
        out.add(new StatusEntry("Deferred Deletion Enabled", Boolean.toString(ds.deferredDelete)));
        out.add(new StatusEntry("Deferred Deleted Device Count", Integer.toString(ds.deletedDeviceCount())));
        out.add(new StatusEntry("Kernel Driver Version", ds.dmVersion[0] + "." + ds.dmVersion[1] + "." + ds.dmVersion[2]));
        return out;
    }

    private static String loopOf(Path file) {
        if (file == null) return null;
        return dev.strata.nativeio.LoopDevice.findAttached(file).map(n -> "/dev/loop" + n).orElse(null);
    }

    /** moby: a loop file's free space is also bounded by the filesystem it lives on. */
    private static long available(long poolFree, Path loopFile) {
        if (loopFile == null) return poolFree;
        try {
            StatFs st = StatFs.of(loopFile);
            return Math.min(poolFree, st.availableBytes());
        } catch (RuntimeException e) {
            return poolFree;
        }
    }
}
