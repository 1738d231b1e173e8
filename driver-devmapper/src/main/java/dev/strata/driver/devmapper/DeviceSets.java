package dev.strata.driver.devmapper;

import dev.strata.kit.Flock;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.logging.Logger;

/** Opening a device set (moby's initDevmapper) and closing it (moby's Shutdown). */
final class DeviceSets {
    private static final Logger LOG = Logger.getLogger(DeviceSets.class.getName());

    private DeviceSets() {
    }

    static DeviceSet open(Path home, DevmapperOptions o) {
        try {
            Files.createDirectories(home);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
            Files.createDirectories(home.resolve("metadata"));
            Files.createDirectories(home.resolve("mnt"));
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        DeviceMapper dm = DeviceMapper.open();
        ThinPool pool = null;
        boolean poolExisted = false;
        DeviceIdMap ids = null;
        try {
            int[] v = dm.version();
            boolean kernelDeferred = v[0] > 4 || (v[0] == 4 && v[1] >= 27);
            if (Boolean.TRUE.equals(o.deferredRemoval()) && !kernelDeferred) {
                throw new StorageException("open", "dm.use_deferred_removal", "devmapper: Deferred removal can not be enabled as kernel does not support it");
            }
            boolean removal = o.deferredRemoval() != null ? o.deferredRemoval() : kernelDeferred;
            boolean deletion = o.deferredDeletion() != null ? o.deferredDeletion() : removal;
            String prefix = DeviceSet.prefixFor(home);
            String poolName = o.thinPoolDevice() != null ? o.thinPoolDevice() : prefix + "-pool";
            poolExisted = dm.info(poolName).isPresent();
            pool = PoolSetup.ensure(dm, home, prefix, o);
            Path meta = home.resolve("metadata");
            ids = new DeviceIdMap(meta.resolve(DeviceIdMap.FILE));
            DeviceSet ds = new DeviceSet(home, o, dm, pool, prefix, new MetadataStore(meta), ids,
                    new Flock(meta.resolve(".lock")), removal, deletion, v);
            ds.lock.locked(() -> {
                Recovery.run(ds);
                BaseDevice.setup(ds);
                ds.saveDeviceSetMeta(null, null);
            });
            return ds;
        } catch (RuntimeException e) {
            if (ids != null) ids.close();
            if (pool != null && pool.owned() && !poolExisted) {
                try {
                    dm.remove(pool.name(), false);
                    DeviceNodes.remove(pool.name());
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            dm.close();
            throw e;
        }
    }

    /**
     * Deactivates every device of the set and, when Strata made it, the pool; loop devices then detach by
     * themselves (autoclear). A device still open elsewhere is left to the kernel's deferred removal.
     */
    static void close(DeviceSet ds) {
        ds.lock.locked(() -> {
            try {
                ds.saveDeviceSetMeta(null, null);
            } catch (RuntimeException e) {
                LOG.warning("cannot save deviceset-metadata: " + e.getMessage());
            }
            for (String n : DeviceNodes.list(ds.prefix + "-")) {
                if (n.equals(ds.pool.name())) continue;
                removeNowOrDeferred(ds, n);
            }
            for (String h : ds.hashes()) removeNowOrDeferred(ds, ds.devName(h));
            if (ds.pool.owned()) removeNowOrDeferred(ds, ds.pool.name());
        });
        ds.ids.close();
        ds.dm.close();
    }

    private static void removeNowOrDeferred(DeviceSet ds, String name) {
        if (ds.dm.info(name).isEmpty()) {
            DeviceNodes.remove(name);
            return;
        }
        for (int attempt = 0; ; attempt++) {
            try {
                ds.dm.remove(name, false);
                DeviceNodes.remove(name);
                return;
            } catch (SyscallException e) {
                if (e.is(Errno.ENXIO)) {
                    DeviceNodes.remove(name);
                    return;
                }
                if (!e.is(Errno.EBUSY)) throw e;
                if (attempt < 30) {
                    ThinPool.sleep(100); // a device just unmounted can stay busy for a moment
                    continue;
                }
                if (!ds.deferredRemove) throw e;
                LOG.warning(name + " is busy; the kernel will remove it when it is closed");
                ds.dm.remove(name, true);
                return;
            }
        }
    }
}
