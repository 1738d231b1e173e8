package dev.strata.driver.devmapper;

import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.nio.file.Path;
import java.util.List;

/**
 * A thin-pool device and the thin devices in it: the pool messages ({@code create_thin}, {@code create_snap},
 * {@code delete}, {@code set_transaction_id}) and the activation of a thin device as a dm device of its own.
 *
 * @param blockSectors the pool's data block size in 512-byte sectors
 * @param owned        Strata created the pool (loop files or raw devices) and tears it down at cleanup
 */
record ThinPool(DeviceMapper dm, String name, long dev, long blockSectors, Path dataLoopFile, Path metadataLoopFile,
                boolean owned) {
    /** The pool table moby writes: low-water mark 32768 blocks, one feature: skip_block_zeroing. */
    static DmTarget table(long dataSectors, long metaDev, long dataDev, long blockSectors) {
        return new DmTarget(0, dataSectors, "thin-pool", devString(metaDev) + " " + devString(dataDev) + " "
                + blockSectors + " 32768 1 skip_block_zeroing");
    }

    static String devString(long dev) {
        return PosixFiles.major(dev) + ":" + PosixFiles.minor(dev);
    }

    PoolStatus status() {
        List<DmTarget> s = dm.status(name);
        if (s.isEmpty() || !s.getFirst().type().equals("thin-pool")) {
            throw new StorageException("status", name, "devmapper: Device " + name + " is not a thin pool");
        }
        return PoolStatus.parse(name, s.getFirst().params());
    }

    void createThin(int id) {
        dm.message(name, 0, "create_thin " + id);
    }

    void createSnap(int id, int origin) {
        dm.message(name, 0, "create_snap " + id + " " + origin);
    }

    /** Deletes thin device {@code id}; EBUSY while it is active, ENODATA when it does not exist. */
    void delete(int id) {
        dm.message(name, 0, "delete " + id);
    }

    /**
     * Deletes thin device {@code id} as a deletion that must finish: one the pool no longer has (ENODATA: deleted by
     * an earlier attempt that died before its record went) counts as deleted, as moby's DeleteDevice counts it.
     * False when it was already gone. EBUSY and every other error still throw.
     */
    boolean deleteIfPresent(int id) {
        try {
            delete(id);
            return true;
        } catch (SyscallException e) {
            if (e.is(Errno.ENODATA)) return false;
            throw e;
        }
    }

    void setTransactionId(long current, long next) {
        dm.message(name, 0, "set_transaction_id " + current + " " + next);
    }

    long dataBlockBytes() {
        return blockSectors * 512;
    }

    /**
     * Makes thin device {@code id} visible as {@code /dev/mapper/<devName>} of {@code size} bytes, if it is not
     * already. A device half-made by a crash (no live table) is replaced.
     */
    Path activate(String devName, int id, long size) {
        var existing = dm.info(devName);
        if (existing.isPresent()) {
            if (existing.get().hasLiveTable()) return DeviceNodes.ensure(devName, existing.get().dev());
            dm.remove(devName, false);
        }
        dm.create(devName, null);
        try {
            dm.load(devName, List.of(new DmTarget(0, size / 512, "thin", devString(dev) + " " + id)));
            long d = dm.resume(devName);
            return DeviceNodes.ensure(devName, d);
        } catch (RuntimeException e) {
            try {
                dm.remove(devName, false);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Removes the dm device of a thin device (the thin device itself stays in the pool). Deferred: an open device
     * goes when its last user closes it. Otherwise EBUSY is retried for up to 20 s, as moby does, since a just
     * unmounted filesystem may hold the device for a moment.
     */
    void deactivate(String devName, boolean deferred) {
        var info = dm.info(devName);
        if (info.isEmpty()) {
            DeviceNodes.remove(devName);
            return;
        }
        for (int i = 0; ; i++) {
            try {
                dm.remove(devName, deferred);
                break;
            } catch (SyscallException e) {
                if (e.is(Errno.ENXIO)) break;
                if (!e.is(Errno.EBUSY) || deferred || i >= 200) throw e;
                sleep(100);
            }
        }
        if (dm.info(devName).isEmpty()) DeviceNodes.remove(devName);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("wait", null, "interrupted");
        }
    }
}
