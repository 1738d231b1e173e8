package dev.strata.snapshotter;

import java.time.Instant;
import java.util.Map;

/** What Stat, Update and List answer: containerd's {@code snapshots.Info}. The parent is a name, "" for none. */
public record SnapshotInfo(String name, String parent, Kind kind, Map<String, String> labels, Instant created, Instant updated) {
    public SnapshotInfo {
        labels = Map.copyOf(labels);
    }
}
