package dev.strata.driver.devmapper;

import dev.strata.kit.Flock;
import dev.strata.api.Sizes;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The thin devices of one pool and their records (moby's DeviceSet): snapshots, deletion, activation, and the
 * transactions that keep the pool and the records in step across crashes.
 *
 * <p>A pool change runs as: take an id (its bit set and synced), write {@code transaction-metadata} with the
 * transaction id the pool will have afterwards, send the pool message, write the device's record, then
 * {@code set_transaction_id}. At start, a transaction record ahead of the pool's id is rolled back
 * ({@link Recovery}).
 */
final class DeviceSet {
    private static final Logger LOG = Logger.getLogger(DeviceSet.class.getName());

    final Path home;
    final DevmapperOptions opts;
    final DeviceMapper dm;
    final ThinPool pool;
    final String prefix;
    final MetadataStore store;
    final DeviceIdMap ids;
    final Flock lock;
    final boolean deferredRemove, deferredDelete;
    final int[] dmVersion;
    private int nextDeviceId;

    DeviceSet(Path home, DevmapperOptions opts, DeviceMapper dm, ThinPool pool, String prefix, MetadataStore store,
              DeviceIdMap ids, Flock lock, boolean deferredRemove, boolean deferredDelete, int[] dmVersion) {
        this.home = home;
        this.opts = opts;
        this.dm = dm;
        this.pool = pool;
        this.prefix = prefix;
        this.store = store;
        this.ids = ids;
        this.lock = lock;
        this.deferredRemove = deferredRemove;
        this.deferredDelete = deferredDelete;
        this.dmVersion = dmVersion;
        var meta = store.readDeviceSet();
        this.nextDeviceId = meta == null ? 0 : meta.nextDeviceId();
    }

    /** moby's device prefix: {@code docker-<major>:<minor>-<inode>} of the home directory. */
    static String prefixFor(Path home) {
        Stat st = PosixFiles.statx(null, home.toString(), 0);
        return "docker-" + st.devMajor() + ":" + st.devMinor() + "-" + st.ino();
    }

    /** The dm name of a device: prefix-id (prefix-base for the base); ids too long for dm's 127 bytes are hashed. */
    String devName(String hash) {
        // "base" and "pool" name the set's own devices: a layer so named gets a "_" in front
        String n = prefix + "-" + (hash.isEmpty() ? "base" : hash.equals("base") || hash.equals("pool") ? "_" + hash : hash);
        if (n.length() < DmIoctl.NAME_LEN) return n;
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(hash.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return prefix + "-h" + java.util.HexFormat.of().formatHex(d, 0, 20);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Path devPath(String hash) {
        return DeviceNodes.path(devName(hash));
    }

    DevInfo info(String hash) {
        return store.read(hash);
    }

    // ---- transactions (call under lock) ----

    private int allocateId() {
        int id = ids.findFree(nextDeviceId);
        ids.markUsed(id);
        nextDeviceId = id;
        return id;
    }

    /** Writes the transaction record; returns the pool's current transaction id. */
    private long openTransaction(String hash, int id) {
        long tid = pool.status().transactionId();
        store.writeTransaction(new MetadataStore.Transaction(tid + 1, hash, id));
        return tid;
    }

    private void closeTransaction(long tid) {
        pool.setTransactionId(tid, tid + 1);
    }

    /** A new empty thin device (the base): create_thin. */
    DevInfo createThin(String hash, long size) {
        return lock.locked(() -> {
            int id = allocateId();
            long tid = openTransaction(hash, id);
            while (true) {
                try {
                    pool.createThin(id);
                    break;
                } catch (SyscallException e) {
                    if (!e.is(Errno.EEXIST)) throw failCreate(e, id, hash, false);
                    LOG.severe("Device ID " + id + " exists in pool but it is supposed to be unused");
                    id = allocateId();
                    store.writeTransaction(new MetadataStore.Transaction(tid + 1, hash, id));
                }
            }
            return register(hash, new DevInfo(id, size, tid + 1, false, false, null), tid);
        });
    }

    /**
     * A thin snapshot of {@code parentHash} (create_snap). An active origin is suspended around the message so
     * that the snapshot sees a consistent filesystem.
     */
    DevInfo snapshot(String hash, String parentHash, DevInfo parent, long size) {
        return lock.locked(() -> {
            poolHasFreeSpace();
            String originName = devName(parentHash);
            var origin = dm.info(originName);
            boolean cancelled = false;
            if (origin.isPresent() && origin.get().deferredRemove()) {
                cancelDeferredRemoval(originName);
                cancelled = true;
                origin = dm.info(originName);
            }
            boolean suspend = origin.isPresent() && !origin.get().suspended();
            int id = allocateId();
            long tid = openTransaction(hash, id);
            CrashPoints.reach("snapshot-after-open-transaction", hash);
            if (suspend) dm.suspend(originName);
            try {
                while (true) {
                    try {
                        pool.createSnap(id, parent.deviceId());
                        break;
                    } catch (SyscallException e) {
                        if (!e.is(Errno.EEXIST)) throw failCreate(e, id, hash, false);
                        LOG.severe("Device ID " + id + " exists in pool but it is supposed to be unused");
                        id = allocateId();
                        store.writeTransaction(new MetadataStore.Transaction(tid + 1, hash, id));
                    }
                }
            } finally {
                if (suspend) dm.resume(originName);
                if (cancelled) deactivate(parentHash);
            }
            CrashPoints.reach("snapshot-after-create-snap", hash);
            return register(hash, new DevInfo(id, size, tid + 1, false, false, parentHash.isEmpty() ? null : parentHash), tid);
        });
    }

    private DevInfo register(String hash, DevInfo info, long tid) {
        try {
            store.write(hash, info);
            CrashPoints.reach("snapshot-after-register", hash);
            closeTransaction(tid);
        } catch (RuntimeException e) {
            throw failCreate(e, info.deviceId(), hash, true);
        }
        CrashPoints.reach("snapshot-after-close-transaction", hash);
        return info;
    }

    /** Undoes a create that failed in this process: the thin device, its record, its id, the transaction record. */
    private RuntimeException failCreate(RuntimeException e, int id, String hash, boolean created) {
        try {
            if (created) {
                store.delete(hash);
                pool.delete(id);
            }
            ids.markFree(id);
            store.deleteTransaction();
        } catch (RuntimeException cleanup) {
            e.addSuppressed(cleanup);
        }
        return e;
    }

    /** moby's poolHasFreeSpace: refuse a new device before the pool fills up (dm.min_free_space). */
    void poolHasFreeSpace() {
        int pct = opts.minFreeSpacePercent();
        if (pct == 0) return;
        PoolStatus s = pool.status();
        long minData = Math.max(1, s.dataTotal() * pct / 100);
        if (s.dataTotal() - s.dataUsed() < minData) {
            throw new StorageException("create", pool.name(), "devmapper: Thin Pool has " + (s.dataTotal() - s.dataUsed())
                    + " free data blocks which is less than minimum required " + minData
                    + " free data blocks. Create more free space in thin pool or use dm.min_free_space option to change behavior");
        }
        long minMeta = Math.max(1, s.metadataTotal() * pct / 100);
        if (s.metadataTotal() - s.metadataUsed() < minMeta) {
            throw new StorageException("create", pool.name(), "devmapper: Thin Pool has " + (s.metadataTotal() - s.metadataUsed())
                    + " free metadata blocks which is less than minimum required " + minMeta
                    + " free metadata blocks. Create more free metadata space in thin pool or use dm.min_free_space option to change behavior");
        }
    }

    // ---- deletion ----

    /**
     * Deletes a device: discard (dm.blkdiscard), deactivate, then delete it from the pool in a transaction. A
     * busy device with deferred deletion on is marked deleted and deleted later; with {@code sync} it is an error.
     * A discard unmaps the content, so the record is marked deleted before it: a kill from there on leaves no layer
     * that looks whole but reads zeroes (the kit's mark of the remove is lost with the run directory), and the
     * next start of the pool finishes the deletion ({@link #cleanupDeletedDevices}).
     */
    void delete(String hash, boolean sync) {
        lock.locked(() -> {
            DevInfo info = store.read(hash);
            if (info == null) return;
            if (opts.blkDiscard()) {
                if (!info.deleted()) store.write(hash, info = info.withDeleted(true));
                Discard.issue(this, hash, info);
                CrashPoints.reach("delete-after-discard", hash);
            }
            deactivate(hash, deferredRemove && deferredDelete);
            long tid = openTransaction(hash, info.deviceId());
            CrashPoints.reach("delete-after-open-transaction", hash);
            try {
                if (!pool.deleteIfPresent(info.deviceId())) {
                    LOG.warning("Thin device " + info.deviceId() + " of " + hash + " was already gone from pool " + pool.name()
                            + ": its record is removed");
                }
            } catch (SyscallException e) {
                if (sync || !deferredDelete || !e.is(Errno.EBUSY)) {
                    closeTransaction(tid);
                    throw e;
                }
                if (!info.deleted()) store.write(hash, info.withDeleted(true));
                closeTransaction(tid);
                return;
            }
            CrashPoints.reach("delete-after-pool-delete", hash);
            store.delete(hash);
            ids.markFree(info.deviceId());
            closeTransaction(tid);
        });
    }

    /**
     * Makes {@code hash} the device that {@code staged} is (a snapshot of it that an apply wrote into), in steps
     * that a crash cannot tear: the layer's record takes the staged device's id (the commit point), the staged
     * record goes, then the old device is deleted from the pool in a transaction. A crash between the steps leaves
     * an old device no record owns, which the next start deletes ({@link Recovery#sweepOrphanIds}); a staged
     * record still naming the layer's new device is recognised by {@link #dropStaged}.
     */
    void replace(String hash, String staged) {
        lock.locked(() -> {
            DevInfo layer = store.read(hash), copy = store.read(staged);
            if (layer == null || copy == null) throw new StorageException("applyDiff", hash, "devmapper: the device or its staged copy is gone");
            deactivate(staged, false);
            deactivate(hash, false);
            store.write(hash, layer.withDeviceId(copy.deviceId()));
            CrashPoints.reach("replace-after-commit", hash);
            store.delete(staged);
            long tid = openTransaction(hash, layer.deviceId());
            pool.deleteIfPresent(layer.deviceId());
            ids.markFree(layer.deviceId());
            closeTransaction(tid);
        });
    }

    /**
     * Drops a staged copy of {@code hash}: its device, unless a {@link #replace} got as far as giving it to the
     * layer (then only the staged record goes).
     */
    void dropStaged(String hash, String staged) {
        lock.locked(() -> {
            DevInfo copy = store.read(staged);
            if (copy == null) return;
            DevInfo layer = store.read(hash);
            if (layer != null && layer.deviceId() == copy.deviceId()) {
                store.delete(staged);
                return;
            }
            delete(staged, true);
        });
    }

    /** Retries the deletion of devices marked deleted (the 30 s worker, start-up and cleanup). */
    void cleanupDeletedDevices() {
        lock.locked(() -> {
            for (String h : store.hashes()) {
                DevInfo i = store.read(h);
                if (i == null || !i.deleted()) continue;
                try {
                    delete(h, false);
                } catch (RuntimeException e) {
                    LOG.warning("Deletion of device " + h + ", device_id=" + i.deviceId() + " failed:" + e.getMessage());
                }
            }
        });
    }

    int deletedDeviceCount() {
        int n = 0;
        for (String h : store.hashes()) {
            DevInfo i = store.read(h);
            if (i != null && i.deleted()) n++;
        }
        return n;
    }

    // ---- activation ----

    Path activate(String hash) {
        return lock.locked(() -> {
            DevInfo info = store.read(hash);
            if (info == null) throw new StorageException("activate", hash, "devmapper: Unknown device " + hash);
            if (info.deleted()) throw new StorageException("activate", hash, "devmapper: Can't activate device " + hash + " as it is marked for deletion");
            return activate(hash, info);
        });
    }

    Path activate(String hash, DevInfo info) {
        String name = devName(hash);
        if (deferredRemove) {
            var i = dm.info(name);
            if (i.isPresent() && i.get().deferredRemove()) cancelDeferredRemoval(name);
        }
        return pool.activate(name, info.deviceId(), info.size());
    }

    void deactivate(String hash) {
        deactivate(hash, deferredRemove);
    }

    void deactivate(String hash, boolean deferred) {
        pool.deactivate(devName(hash), deferred);
    }

    /** moby retries the cancel 100 times at 100 ms on EBUSY; ENXIO means the device is already gone. */
    private void cancelDeferredRemoval(String name) {
        for (int i = 0; ; i++) {
            try {
                dm.cancelDeferredRemove(name);
                return;
            } catch (SyscallException e) {
                if (e.is(Errno.ENXIO)) return;
                if (!e.is(Errno.EBUSY) || i >= 100) throw e;
                ThinPool.sleep(100);
            }
        }
    }

    /** Every device hash with a record, "" (the base) included. */
    List<String> hashes() {
        return store.hashes();
    }

    /** Ids a record owns. */
    Set<Integer> ownedIds() {
        Set<Integer> owned = new HashSet<>();
        for (String h : store.hashes()) {
            DevInfo i = store.read(h);
            if (i != null) owned.add(i.deviceId());
        }
        return owned;
    }

    void saveDeviceSetMeta(String uuid, String fs) {
        var m = store.readDeviceSet();
        store.writeDeviceSet(new MetadataStore.DeviceSetMeta(nextDeviceId,
                uuid != null ? uuid : m == null ? null : m.baseDeviceUuid(),
                fs != null ? fs : m == null ? null : m.baseDeviceFilesystem()));
    }

    String baseFilesystem() {
        var m = store.readDeviceSet();
        return m == null || m.baseDeviceFilesystem() == null ? opts.fs() : m.baseDeviceFilesystem();
    }

    static String human(long bytes) {
        return Sizes.human(bytes);
    }
}
