package dev.strata.driver.btrfs;

import dev.strata.api.Capabilities;
import dev.strata.api.CreateOptions;
import dev.strata.api.LayerExistsException;
import dev.strata.api.StatusEntry;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.WhiteoutFormat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The btrfs storage work and nothing of the contract (ids, locks, marks and reference counts are the caller's): a
 * layer is a subvolume, a child a snapshot of its parent ({@link LayerVolumes}), with qgroup limits
 * ({@link LayerQuotas}) and parents recorded beside ({@link ParentRecords}), in moby's layout
 * ({@link BtrfsLayout}). Nothing is ever mounted: a layer's root is its subvolume.
 *
 * <p>Each operation has one commit point, a rename: a create publishes {@code creating/<id>}, an apply exchanges
 * {@code applying/<id>} with the layer, a remove moves the layer to {@code trash/}. Whatever an operation cut
 * short left behind is in {@code .btrfs} and goes with {@link #remove} (create, remove) or {@link #discardStaged}
 * (apply).
 */
final class BtrfsStorage {
    static final ApplyOptions APPLY = ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE);

    private final BtrfsLayout layout;
    private final LayerVolumes volumes;
    private final LayerQuotas quotas;
    private final ParentRecords parents;

    BtrfsStorage(Path home, BtrfsOptions options) {
        this.layout = new BtrfsLayout(home);
        this.volumes = new LayerVolumes(layout);
        this.parents = new ParentRecords(layout.parents());
        this.quotas = new LayerQuotas(layout, options);
        parents.adopt(volumes.ids(), layout::layer);
    }

    Path home() {
        return layout.home();
    }

    Capabilities capabilities() {
        return new Capabilities(false, false, true);
    }

    List<StatusEntry> status() {
        return List.of(
                new StatusEntry("Backing Filesystem", "btrfs"),
                new StatusEntry("Layers", Integer.toString(volumes.ids().size())),
                new StatusEntry("Quota", quotas.describe()));
    }

    boolean exists(String id) {
        return volumes.exists(id);
    }

    /** The parent of an existing layer; one moby made since the driver opened is adopted first. */
    String parent(String id) {
        if (!parents.has(id)) parents.adopt(volumes.ids(), layout::layer);
        return parents.parent(id);
    }

    /** Every layer with its parent (null for none), read in one pass. */
    Map<String, String> parents() {
        parents.adopt(volumes.ids(), layout::layer);
        Map<String, String> all = parents.all();
        all.keySet().retainAll(volumes.ids());
        return all;
    }

    List<String> layers() {
        return volumes.ids();
    }

    /**
     * Makes {@code creating/<id>} (empty, or a snapshot of the parent), gives it its limit, and publishes it: the
     * rename is the commit point. The parent is recorded first, so a layer in place always has its record.
     */
    void create(String id, String parent, boolean readWrite, CreateOptions options) {
        String op = readWrite ? "createReadWrite" : "create";
        long size = quotas.sizeFor(op, id, options.storageOpts(), readWrite);
        if (volumes.exists(id)) throw new LayerExistsException(op, id);
        volumes.destroy(layout.creating().resolve(id)); // what an earlier attempt left
        parents.write(id, parent);
        Path made = volumes.make(layout.creating(), id, parent == null ? null : layout.layer(parent));
        if (size > 0) quotas.limit(id, made, size);
        volumes.publish(id);
    }

    /**
     * Removes whatever is stored for {@code id}: the layer (moved to the trash first: from then on it is gone), or
     * what a cut-short create or remove left; nothing is fine. Nested subvolumes go first, then the qgroups.
     */
    void remove(String id) {
        if (volumes.exists(id)) volumes.discard(id);
        parents.delete(id);
        quotas.forget(id);
        List<Long> destroyed = new ArrayList<>(volumes.destroy(layout.creating().resolve(id)));
        destroyed.addAll(volumes.destroy(layout.trash().resolve(id)));
        quotas.release(destroyed);
    }

    Map<String, String> metadata(String id) {
        return Map.of("Dir", layout.layer(id).toString());
    }

    Path root(String id) {
        return layout.layer(id);
    }

    /** Puts a limit the filesystem lost back (moby's Cleanup turns quotas off), as moby's Get does. */
    void mount(String id) {
        quotas.restore(id, layout.layer(id));
    }

    /**
     * A writable snapshot of the layer in {@code applying/<id>} (O(1) whatever the layer holds), with the layer's
     * limit, for an apply to write into.
     */
    BtrfsStagedApply stageApply(String id) {
        discardStaged(id);
        Path staged = volumes.make(layout.applying(), id, layout.layer(id));
        try {
            quotas.carryOver(id, staged);
        } catch (RuntimeException e) {
            quotas.release(volumes.destroyQuietly(staged));
            throw e;
        }
        return new BtrfsStagedApply(staged, () -> volumes.exchange(id), () -> discardStaged(id));
    }

    /** Destroys {@code applying/<id>}: an apply not committed, or the layer's old content after a commit. */
    void discardStaged(String id) {
        quotas.release(volumes.destroy(layout.applying().resolve(id)));
    }

    /** Tries again the qgroups the kernel would not let go of yet. */
    void cleanup() {
        quotas.releasePending();
    }
}
