package dev.strata.snapshotter;

import dev.strata.api.IdMaps;
import dev.strata.api.IdMapping;
import dev.strata.api.InvalidIdMapException;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.nativeio.PosixFiles;
import dev.strata.snapshotter.SnapshotException.Reason;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * containerd's user-namespace labels on Prepare and View: {@code containerd.io/snapshot/uidmapping} and
 * {@code gidmapping}, each {@code containerID:hostID:size[,...]}. containerd's client sends them to a snapshotter
 * only when its config grants the {@value #CAPABILITY} capability ({@code [proxy_plugins.NAME] capabilities =
 * ["remap-ids"]}); without it, the client makes a chown'ed copy of the image itself. With them, the snapshot's
 * layer is made with those maps, and the driver shows it under them (idmapped lowers, or its chown copy).
 */
final class IdMapLabels {
    static final String UID_LABEL = "containerd.io/snapshot/uidmapping";
    static final String GID_LABEL = "containerd.io/snapshot/gidmapping";
    /** The capability containerd's client looks for before it sends the labels. */
    static final String CAPABILITY = "remap-ids";

    private IdMapLabels() {
    }

    /** Whether {@code labels} ask for id maps (validity aside): the snapshot's layer is then shown by the driver. */
    static boolean present(Map<String, String> labels) {
        return labels.containsKey(UID_LABEL) || labels.containsKey(GID_LABEL);
    }

    /**
     * The maps the labels ask for, {@link IdMaps#NONE} without them. A malformed or partial pair is refused as
     * InvalidArgument, in one line naming the label; maps {@code driver} cannot show, as FailedPrecondition.
     */
    static IdMaps of(String op, String key, Map<String, String> labels, StorageDriver driver) {
        IdMaps maps = parse(op, key, labels);
        if (maps.isNone()) return maps;
        Support s = driver.capabilities().idMaps();
        if (!s.supported()) {
            throw new SnapshotException(Reason.FAILED_PRECONDITION, op, key, "user-namespace labels (" + maps + ") cannot be honoured: "
                    + s.reason() + "; leave \"" + CAPABILITY + "\" out of containerd's proxy_plugins capabilities");
        }
        return maps;
    }

    /** The maps the labels ask for, {@link IdMaps#NONE} without them; refused as {@link #of} says. */
    static IdMaps parse(String op, String key, Map<String, String> labels) {
        if (!present(labels)) return IdMaps.NONE;
        List<IdMapping> uids = ranges(op, key, labels, UID_LABEL);
        List<IdMapping> gids = ranges(op, key, labels, GID_LABEL);
        if (uids.isEmpty() || gids.isEmpty()) {
            throw invalid(op, key, "label " + (uids.isEmpty() ? UID_LABEL : GID_LABEL) + " is missing: "
                    + UID_LABEL + " and " + GID_LABEL + " go together");
        }
        try {
            return new IdMaps(uids, gids);
        } catch (InvalidIdMapException e) {
            throw invalid(op, key, "labels " + UID_LABEL + "=\"" + labels.get(UID_LABEL) + "\" " + GID_LABEL + "=\""
                    + labels.get(GID_LABEL) + "\": " + e.getMessage());
        }
    }

    /**
     * Whether containerd's client already chown'ed the parent chain to these maps: without {@value #CAPABILITY} it
     * prepares {@code <digest>-remap} on the image, chowns every file to the maps' host ids, commits that, and then
     * still sends the labels with the container's Prepare on it. That parent's root is the mapped root's, which an
     * image's never is; containerd's overlayfs reads the parent's root owner the same way. The container's layer is
     * then made without maps (showing it under them again would map twice).
     */
    static boolean shiftedByClient(IdMaps maps, int[] parentRootOwner) {
        return parentRootOwner[0] == maps.rootUid() && parentRootOwner[1] == maps.rootGid() && (maps.rootUid() != 0 || maps.rootGid() != 0);
    }

    /**
     * {@code updated} with the id-map labels of {@code current} as they were: they say how the snapshot's layer was
     * made, which an Update cannot change (and which decides how its mounts are answered and released).
     */
    static Map<String, String> keep(Map<String, String> current, Map<String, String> updated) {
        if (!present(current) && !present(updated)) return updated;
        Map<String, String> out = new java.util.HashMap<>(updated);
        for (String l : List.of(UID_LABEL, GID_LABEL)) {
            if (current.containsKey(l)) out.put(l, current.get(l));
            else out.remove(l);
        }
        return out;
    }

    /** Gives a new layer's own root to the maps' root, as containerd's overlayfs does on a chown'ed parent. */
    static void chownRoot(Path root, IdMaps maps) {
        PosixFiles.fchownat(null, root.toString(), maps.rootUid(), maps.rootGid(), 0);
    }

    private static List<IdMapping> ranges(String op, String key, Map<String, String> labels, String label) {
        String value = labels.get(label);
        try {
            return IdMaps.parseRanges(value);
        } catch (InvalidIdMapException e) {
            throw invalid(op, key, "label " + label + "=\"" + value + "\": " + e.detail());
        }
    }

    private static SnapshotException invalid(String op, String key, String why) {
        return new SnapshotException(Reason.INVALID_ARGUMENT, op, key, why);
    }

    /**
     * The capabilities to grant this driver in containerd's proxy_plugins stanza: {@value #CAPABILITY} when it can
     * show layers under id maps, none otherwise (the client's own chown copy then stays in use).
     */
    static List<String> capabilities(StorageDriver driver) {
        return driver.capabilities().idMaps().supported() ? List.of(CAPABILITY) : List.of();
    }

    /** One line for the log at start: what to put in containerd's config, and why. */
    static String advice(StorageDriver driver) {
        Support s = driver.capabilities().idMaps();
        return s.supported()
                ? "user-namespace labels honoured (" + s.reason() + "): containerd's [proxy_plugins] stanza may say capabilities = [\"" + CAPABILITY + "\"]"
                : "user-namespace labels refused (" + s.reason() + "): leave \"" + CAPABILITY + "\" out of containerd's [proxy_plugins] stanza";
    }
}
