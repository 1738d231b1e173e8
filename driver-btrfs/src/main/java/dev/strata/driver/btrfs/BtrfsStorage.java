package dev.strata.driver.btrfs;

import dev.strata.api.Capabilities;
import dev.strata.api.LayerExistsException;
import dev.strata.api.StatusEntry;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.kit.DriverKit;
import dev.strata.kit.DirectoryStorage;
import dev.strata.kit.NewLayer;
import dev.strata.kit.StagedApply;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.SyscallException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The btrfs driver's storage: a layer is a subvolume, a child a snapshot of its parent ({@link LayerVolumes}), with
 * qgroup limits ({@link LayerQuotas}) and parents recorded beside ({@link ParentRecords}), in moby's layout
 * ({@link BtrfsLayout}). Nothing is ever mounted: a layer's root is its subvolume. The contract around it is the
 * driver kit's ({@link DriverKit}).
 *
 * <p>Commit points: a child's create is the snapshot straight into {@code subvolumes/<id>}, as moby's Create, which
 * the kernel makes durable with a transaction commit; a base layer, or a layer given a size limit, is made in
 * {@code .btrfs/creating/} instead, given its mode or limit, and renamed into place, so it never exists without
 * them. An apply's is the rename exchange of a snapshot of the layer with the layer.
 */
final class BtrfsStorage implements DirectoryStorage {
    private static final ApplyOptions APPLY = ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE);

    private final BtrfsLayout layout;
    private final LayerVolumes volumes;
    private final LayerQuotas quotas;
    private final ParentRecords parents;

    BtrfsStorage(Path home, BtrfsOptions options) {
        this.layout = new BtrfsLayout(home);
        this.volumes = new LayerVolumes(layout);
        this.parents = new ParentRecords(layout.parents());
        this.quotas = new LayerQuotas(layout, options);
        quotas.restore(layout::layer);
    }

    @Override
    public String name() {
        return BtrfsProvider.NAME;
    }

    @Override
    public Path home() {
        return layout.home();
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, true);
    }

    @Override
    public List<StatusEntry> status() {
        return List.of(
                new StatusEntry("Backing Filesystem", "btrfs"),
                new StatusEntry("Layers", Integer.toString(volumes.ids().size())),
                new StatusEntry("Quota", quotas.describe()));
    }

    // ---- layers

    @Override
    public boolean exists(String id) {
        return volumes.exists(id);
    }

    /** From the record; a layer without one (a create made it, or moby) is adopted first. */
    @Override
    public String parent(String id) {
        if (!parents.has(id)) parents.adopt(volumes.ids(), layout::layer);
        return parents.parent(id);
    }

    @Override
    public List<String> layers() {
        return volumes.ids();
    }

    /** One ioctl (and a rename): the kit makes it under its home lock, without a crash mark. */
    @Override
    public boolean createsQuickly() {
        return true;
    }

    /**
     * Under the kit's home lock, which has checked that the layer is not there. Writes no parent record: btrfs's
     * parent uuid says it ({@link ParentRecords}); one left by a layer of that id that moby removed goes. A create a
     * kill cut short left at most {@code creating/<id>}: swept before a subvolume is made there; a snapshot straight
     * into place leaves it to {@link #remove} and to the next open ({@link #recover}). Nobody sees it meanwhile: a
     * layer is {@code subvolumes/<id>}.
     */
    @Override
    public void create(NewLayer layer) {
        String op = layer.operation(), id = layer.id(), p = layer.parent();
        long size = quotas.sizeFor(op, id, layer.options().storageOpts(), layer.readWrite());
        Path source = p == null ? null : layout.layer(p);
        parents.delete(id);
        quotas.forget(id); // a limit recorded by a create or remove of the id cut short would be put back on this layer
        try {
            if (source != null && size == 0) {
                volumes.make(layout.subvolumes(), id, source); // the commit point
                return;
            }
            quotas.release(volumes.destroy(layout.creating().resolve(id)));
            // An empty subvolume gets its mode, and any layer its limit, before it is in place.
            Path made = volumes.make(layout.creating(), id, source);
            if (size > 0) quotas.limit(id, made, size);
            volumes.publish(id); // the commit point
        } catch (SyscallException e) {
            if (!e.is(Errno.EEXIST)) throw e;
            // Made meanwhile by a process outside the kit's lock (moby on the same home): its layer, not ours to
            // remove, which the kit would do with what a failed create left. moby keeps no parent records.
            quotas.release(volumes.destroyQuietly(layout.creating().resolve(id)));
            parents.delete(id);
            if (size > 0) quotas.forget(id);
            throw new LayerExistsException(op, id);
        }
    }

    /**
     * Destroys whatever is stored for {@code id} (the layer, or what a cut-short create or remove left): the layer is
     * moved to {@code removing/<id>} first and destroyed there, nested subvolumes first; then its parent and limit are
     * forgotten and its qgroups let go.
     */
    @Override
    public void remove(String id) {
        List<Long> destroyed = new ArrayList<>();
        volumes.retire(id, destroyed);
        destroyed.addAll(volumes.destroy(layout.removing().resolve(id)));
        destroyed.addAll(volumes.destroy(layout.creating().resolve(id)));
        parents.delete(id);
        quotas.forget(id);
        quotas.release(destroyed);
    }

    @Override
    public Map<String, String> metadata(String id) {
        return Map.of("Dir", layout.layer(id).toString());
    }

    // ---- mounts: nothing is mounted

    @Override
    public Path root(String id) {
        return layout.layer(id);
    }

    // ---- diffs

    /** A writable snapshot of the layer in {@code .btrfs/applying/<id>}, O(1) whatever it holds, with its limit. */
    @Override
    public StagedApply stageApply(String id, String parent) {
        discardStaged(id);
        parents.keep(id, parent, layout::layer, volumes::ids); // the exchange breaks btrfs's note of the parent
        Path staged = volumes.make(layout.applying(), id, layout.layer(id));
        try {
            quotas.carryOver(id, staged);
        } catch (RuntimeException e) {
            quotas.release(volumes.destroyQuietly(staged));
            throw e;
        }
        return new BtrfsStagedApply(staged, APPLY, () -> volumes.exchange(id), () -> discardStaged(id), () -> {
            List<Long> destroyed = volumes.destroy(layout.applying().resolve(id));
            volumes.awaitDropped(destroyed);
            quotas.release(destroyed);
        });
    }

    /** Destroys {@code .btrfs/applying/<id>}: an apply not committed, or the layer's old content after a commit. */
    @Override
    public void discardStaged(String id) {
        quotas.release(volumes.destroy(layout.applying().resolve(id)));
    }

    // ---- driver-wide

    /**
     * At open, under the kit's home lock (no create runs): destroys what creates a kill cut short left in
     * {@code creating/}, drops parent records and recorded limits of layers that are not there (a create or remove
     * killed between its subvolume and its record, or a layer moby removed), and tries again the qgroups the kernel
     * would not let go of yet. Two directory reads when there is nothing to do (three with limited layers).
     */
    @Override
    public void recover() {
        List<Long> destroyed = new ArrayList<>();
        for (String id : volumes.staged(layout.creating())) destroyed.addAll(volumes.destroy(layout.creating().resolve(id)));
        parents.retainOnly(volumes::exists);
        quotas.retainOnly(volumes::exists);
        quotas.release(destroyed);
        quotas.releasePending();
    }

    /**
     * The applies whose snapshot is still in {@code applying/} and the removes whose layer is still in
     * {@code removing/}: their marks lived in the run directory, so after a reboot or a stale sweep only this says
     * they were cut short; the kit drops each apply's ({@link #discardStaged}) and finishes each remove unless one of
     * the id is running. Not in {@link #recover}, which runs at every open while another process's apply or remove
     * may be under way outside the home lock.
     */
    @Override
    public List<String> cutShort() {
        List<String> ids = new ArrayList<>(volumes.staged(layout.applying()));
        ids.addAll(volumes.staged(layout.removing()));
        return ids;
    }

    @Override
    public void cleanup() {
        quotas.releasePending();
    }
}
