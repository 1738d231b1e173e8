package dev.strata.snapshotter;

import java.time.Instant;
import java.util.Map;

/**
 * One snapshot as the snapshotter keeps it, one file per record.
 *
 * @param id       the snapshotter's own id: the record's file name, and the name of any mount it makes itself
 * @param name     the key (active, view) or the name (committed)
 * @param parentId the parent's id, null for none
 * @param layer    the Strata layer holding this snapshot's content; null for a view that reads its parent's layer
 * @param usage    for a committed snapshot, the usage computed at commit
 */
record SnapshotRecord(String id, Kind kind, String name, String parentId, String layer, Map<String, String> labels,
                      Instant created, Instant updated, Usage usage) {
    SnapshotRecord {
        labels = Map.copyOf(labels);
        if (usage == null) usage = Usage.ZERO;
    }

    SnapshotRecord withLabels(Map<String, String> newLabels, Instant now) {
        return new SnapshotRecord(id, kind, name, parentId, layer, newLabels, created, now, usage);
    }

    SnapshotRecord committed(String newName, Map<String, String> newLabels, Instant now, Usage newUsage) {
        return new SnapshotRecord(id, Kind.COMMITTED, newName, parentId, layer, newLabels, now, now, newUsage);
    }
}
