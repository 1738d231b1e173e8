package dev.strata.driver.devmapper;

import dev.strata.nativeio.SyscallException;

import java.util.Set;
import java.util.logging.Logger;

/**
 * What start-up repairs after a crash, under the pool lock: the open transaction (moby's
 * processPendingTransaction), thin ids that no record owns, device nodes of devices that are gone, and devices
 * whose deferred deletion is due.
 */
final class Recovery {
    private static final Logger LOG = Logger.getLogger(Recovery.class.getName());

    private Recovery() {
    }

    static void run(DeviceSet ds) {
        ds.lock.locked(() -> {
            processPendingTransaction(ds);
            sweepOrphanIds(ds);
            sweepStaleNodes(ds);
            ds.cleanupDeletedDevices();
        });
    }

    /**
     * A transaction record ahead of the pool's transaction id is a change that did not finish: delete its thin
     * device (it may not exist: logged only), its record and its id, as moby's rollbackTransaction does. A create
     * is undone; a delete is completed.
     */
    static void processPendingTransaction(DeviceSet ds) {
        MetadataStore.Transaction t = ds.store.readTransaction();
        if (t == null) return;
        long poolTid = ds.pool.status().transactionId();
        if (t.openTransactionId() == poolTid) return;
        if (t.openTransactionId() < poolTid) {
            LOG.severe("Open Transaction id " + t.openTransactionId() + " is less than pool transaction id " + poolTid);
            return;
        }
        LOG.warning("Rolling back open transaction: TransactionID=" + t.openTransactionId() + " hash=" + t.deviceHash()
                + " device_id=" + t.deviceId());
        String name = ds.devName(t.deviceHash());
        try {
            ds.pool.deactivate(name, false);
        } catch (RuntimeException e) {
            LOG.warning("Unable to deactivate " + name + ": " + e.getMessage());
        }
        try {
            ds.pool.delete(t.deviceId());
        } catch (RuntimeException e) {
            LOG.info("Unable to delete device " + t.deviceId() + " (it may never have been made): " + e.getMessage());
        }
        DevInfo owner = ds.store.read(t.deviceHash());
        if (owner == null || owner.deviceId() == t.deviceId()) ds.store.delete(t.deviceHash());
        ds.ids.markFree(t.deviceId());
        ds.store.deleteTransaction();
    }

    /**
     * Ids whose bit is set but that no record owns were taken by a create that died before its transaction was
     * written, or freed by a delete that died after the pool forgot them: delete them from the pool (ENODATA: it
     * never had them) and free them. Ids owned by records but missing from the map (a home made by moby) are
     * marked.
     */
    static void sweepOrphanIds(DeviceSet ds) {
        Set<Integer> owned = ds.ownedIds();
        for (int id : ds.ids.used()) {
            if (owned.contains(id)) continue;
            try {
                if (ds.pool.deleteIfPresent(id)) {
                    LOG.warning("Deleted thin device " + id + " from pool " + ds.pool.name() + ": no device record owned it");
                }
            } catch (SyscallException e) {
                LOG.warning("Cannot delete orphaned thin device " + id + ": " + e.getMessage());
                continue;
            }
            ds.ids.markFree(id);
        }
        for (int id : owned) if (!ds.ids.isUsed(id)) ds.ids.markUsed(id);
    }

    /** /dev/mapper nodes we made for devices that have since gone (a deferred removal completes without us). */
    static void sweepStaleNodes(DeviceSet ds) {
        for (String n : DeviceNodes.list(ds.prefix + "-")) {
            if (ds.dm.info(n).isEmpty()) DeviceNodes.remove(n);
        }
    }
}
