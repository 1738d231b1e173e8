package dev.strata.driver.devmapper;

import dev.strata.api.StorageException;

import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * The base device every layer without a parent is a snapshot of (moby's setupBaseImage): made and formatted once,
 * its UUID and filesystem remembered in deviceset-metadata and checked at every start, grown when a bigger
 * {@code dm.basesize} is asked for, never shrunk.
 */
final class BaseDevice {
    private static final Logger LOG = Logger.getLogger(BaseDevice.class.getName());

    private BaseDevice() {
    }

    static void setup(DeviceSet ds) {
        ds.lock.locked(() -> {
            DevInfo old = ds.info("");
            if (old != null) {
                if (old.initialized() && !old.deleted()) {
                    verifyUuidAndFs(ds, old);
                    checkGrow(ds, old);
                    return;
                }
                LOG.info("Removing uninitialized base image");
                ds.delete("", true);
            }
            if (ds.opts.thinPoolDevice() != null && old == null) checkThinPoolEmpty(ds);
            create(ds);
        });
    }

    private static void create(DeviceSet ds) {
        DevInfo info = ds.createThin("", ds.opts.baseSize());
        CrashPoints.reach("base-after-create", "");
        Path dev = ds.activate("", info);
        try {
            Filesystems.make(ds.opts.fs(), dev, ds.opts.mkfsArgs());
            ds.store.write("", info.withInitialized(true));
            ds.saveDeviceSetMeta(Filesystems.uuid(dev, ds.opts.fs()), ds.opts.fs());
        } finally {
            ds.deactivate("", false);
        }
    }

    private static void verifyUuidAndFs(DeviceSet ds, DevInfo base) {
        var meta = ds.store.readDeviceSet();
        Path dev = ds.activate("", base);
        try {
            String fs = Filesystems.probeType(dev);
            String uuid = Filesystems.uuid(dev, fs);
            if (meta == null || meta.baseDeviceUuid() == null || meta.baseDeviceUuid().isEmpty()) {
                ds.saveDeviceSetMeta(uuid, fs);
                return;
            }
            if (!meta.baseDeviceUuid().equals(uuid)) {
                throw new StorageException("open", ds.pool.name(), "devmapper: Current Base Device UUID:" + uuid
                        + " does not match with stored UUID:" + meta.baseDeviceUuid() + ". Possibly using a different thin pool than last invocation");
            }
            if (meta.baseDeviceFilesystem() == null || meta.baseDeviceFilesystem().isEmpty()) ds.saveDeviceSetMeta(null, fs);
            if (!fs.equals(ds.opts.fs()) && ds.opts.fs() != null) {
                LOG.warning("Base device already exists and has filesystem " + fs + " on it. User specified filesystem " + ds.opts.fs() + " will be ignored.");
            }
        } finally {
            ds.deactivate("", false);
        }
    }

    /** moby's checkGrowBaseDeviceFS: only an explicitly given dm.basesize is compared with the base's size. */
    private static void checkGrow(DeviceSet ds, DevInfo base) {
        if (!ds.opts.baseSizeGiven()) return;
        if (ds.opts.baseSize() < base.size()) {
            throw new StorageException("open", "dm.basesize", "devmapper: Base device size cannot be smaller than " + DeviceSet.human(base.size()));
        }
        if (ds.opts.baseSize() == base.size()) return;
        ds.store.write("", base.withSize(ds.opts.baseSize()));
        DeviceMounts.growFs(ds, "");
    }

    /** moby adopts a given pool only when it is unused. */
    private static void checkThinPoolEmpty(DeviceSet ds) {
        PoolStatus s = ds.pool.status();
        if (s.dataUsed() != 0) {
            throw new StorageException("open", ds.pool.name(), "devmapper: Unable to take ownership of thin-pool (" + ds.pool.name() + ") that already has used data blocks");
        }
        if (s.transactionId() != 0) {
            throw new StorageException("open", ds.pool.name(), "devmapper: Unable to take ownership of thin-pool (" + ds.pool.name() + ") with non-zero transaction ID");
        }
    }
}
