package dev.strata.snapshotter;

import dev.strata.api.CreateOptions;
import dev.strata.api.IdMaps;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.MountSpecs.MountSpec;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.PosixFiles;
import dev.strata.snapshotter.SnapshotException.Reason;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * containerd's {@code snapshots.Snapshotter} on a Strata driver. Every active snapshot is a read-write layer, and a
 * commit keeps that layer under the new name; a view reads its parent's layer (a driver that cannot describe its
 * mounts gets a layer for each view too). Layers are named {@code sn-<snapshot id>}, so the snapshotter can tell
 * its own from others in a shared root.
 *
 * <p>Crash safety: a snapshot exists once its record is written ({@link MetadataStore}). A create makes the layer
 * (and any mount) first and the record last; a remove deletes the record first and the layer after. A kill in
 * between leaves a layer or a mount without a record, which nobody sees and {@link #cleanup} (run at every start)
 * removes.
 */
public final class Snapshotter implements AutoCloseable {
    /** The label a lazy-pulling client sets on Prepare to name the committed snapshot it is about to make. */
    static final String TARGET_LABEL = "containerd.io/snapshot.ref";
    static final String LAYER_PREFIX = "sn-";
    private static final System.Logger LOG = System.getLogger(Snapshotter.class.getName());

    private final StorageDriver driver;
    private final MetadataStore store;
    private final SnapshotMounts mounts;
    private final boolean ownChangesOnly;
    static final int DEFERRED_REMOVAL_SECONDS = 30;
    /** A removed snapshot's layer, waiting for {@link #cleanup} or the sweeper. */
    private record Removed(String layer, long at) {
    }

    /** Layers of removed snapshots, oldest first, waiting for {@link #cleanup} or the sweeper. */
    private final java.util.Queue<Removed> removed = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.ScheduledExecutorService sweeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("strata-snapshotter-sweep").unstarted(r));
    /** Ids of snapshots being created: their layers and mounts exist before their records. */
    private final Set<String> creating = ConcurrentHashMap.newKeySet();

    private Snapshotter(StorageDriver driver, MetadataStore store, SnapshotMounts mounts) {
        this.driver = driver;
        this.ownChangesOnly = driver.capabilities().nativeDiff();
        this.store = store;
        this.mounts = mounts;
        sweeper.scheduleWithFixedDelay(() -> deleteRemovedLayers(java.util.concurrent.TimeUnit.SECONDS.toNanos(DEFERRED_REMOVAL_SECONDS)),
                DEFERRED_REMOVAL_SECONDS, DEFERRED_REMOVAL_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * Opens the snapshots kept in {@code stateDir} on {@code driver} and removes what a crash left half-made. The
     * snapshotter owns the driver from then on (see {@link #close}).
     */
    public static Snapshotter open(StorageDriver driver, Path stateDir) {
        MetadataStore store = MetadataStore.open(stateDir);
        try {
            Snapshotter s = new Snapshotter(driver, store, new SnapshotMounts(driver, stateDir.resolve("mounts")));
            s.cleanup();
            return s;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public StorageDriver driver() {
        return driver;
    }

    /**
     * Whether the driver promises that a layer's directory holds only its own changes (it diffs natively: overlay,
     * aufs), so that making a child copies nothing and a commit's usage walk covers only what the container changed.
     * Where it does not (vfs copies the parent; btrfs, devmapper; overlay in naive-diff mode) this says no, which
     * only costs speed (see {@link SnapshotsService}).
     */
    boolean layersHoldOwnChanges() {
        return ownChangesOnly;
    }

    /** Whether Mounts only describes (the driver has mount specs) rather than mounting with the driver. */
    boolean describesMounts() {
        return mounts.describesMounts();
    }

    public List<MountSpec> prepare(String key, String parent, Map<String, String> labels) {
        return create("prepare", Kind.ACTIVE, key, parent, labels);
    }

    public List<MountSpec> view(String key, String parent, Map<String, String> labels) {
        return create("view", Kind.VIEW, key, parent, labels);
    }

    private List<MountSpec> create(String op, Kind kind, String key, String parent, Map<String, String> rawLabels) {
        Map<String, String> labels = withoutEmpty(rawLabels);
        String target = labels.get(TARGET_LABEL);
        if (target != null && exists(target)) {
            throw new SnapshotException(Reason.ALREADY_EXISTS, op, key, "target snapshot " + target + " already exists");
        }
        IdMaps asked = IdMapLabels.of(op, key, labels, driver); // before anything is reserved: a refusal changes nothing
        MetadataStore.Pending p = store.reserveCreate(op, key, parent);
        String parentLayer = p.parent() == null ? null : p.parent().layer();
        // a view under id maps needs a layer of its own: the maps are the layer's
        boolean ownLayer = kind == Kind.ACTIVE || p.parent() == null || !mounts.describesMounts() || !asked.isNone();
        String layer = ownLayer ? LAYER_PREFIX + p.id() : null;
        boolean made = false;
        creating.add(p.id());
        try {
            // (a parent Strata made with maps is shown under them by the driver: a chain of mixed maps is the driver's job)
            boolean shifted = !asked.isNone() && parentLayer != null && driver.idMaps(parentLayer).isNone()
                    && IdMapLabels.shiftedByClient(asked, rootOwner(parentLayer));
            boolean mapped = !asked.isNone() && !shifted;
            if (layer != null) {
                CreateOptions options = mapped ? CreateOptions.of(asked) : CreateOptions.NONE;
                if (kind == Kind.ACTIVE) driver.createReadWrite(layer, parentLayer, options);
                else driver.create(layer, parentLayer, options);
                made = true;
                // as containerd's overlayfs does on a chown'ed parent: the new root is the mapped root's too
                if (shifted && kind == Kind.ACTIVE) IdMapLabels.chownRoot(mounts.ownContent(layer), asked);
            }
            List<MountSpec> m = mapped ? mounts.mountedByDriver(p.id(), layer, kind == Kind.VIEW)
                    : mounts.mounts(p.id(), layer != null ? layer : parentLayer, kind == Kind.VIEW);
            Instant now = Instant.now();
            String parentId = p.parent() == null ? null : p.parent().id();
            store.publish(p, new SnapshotRecord(p.id(), kind, key, parentId, layer, labels, now, now, Usage.ZERO));
            return m;
        } catch (RuntimeException e) {
            try {
                mounts.release(p.id(), layer, !asked.isNone());
                if (made) driver.remove(layer);
            } catch (RuntimeException undo) {
                e.addSuppressed(undo); // left for cleanup: the layer has no record, so nobody sees it
            }
            store.abandon(p);
            throw e;
        } finally {
            creating.remove(p.id());
        }
    }

    /** The mounts of an active snapshot or a view, made again if a reboot or a cleanup took them. */
    public List<MountSpec> mounts(String key) {
        SnapshotRecord r = store.get("mounts", key);
        if (r.kind() == Kind.COMMITTED) throw new SnapshotException(Reason.FAILED_PRECONDITION, "mounts", key, "snapshot is not active");
        if (mountedByDriver(r)) return mounts.mountedByDriver(r.id(), r.layer(), r.kind() == Kind.VIEW);
        return mounts.mounts(r.id(), contentLayer(r), r.kind() == Kind.VIEW);
    }

    /** The mounts of an active snapshot or a view if they are known without touching the disk, else null. */
    List<MountSpec> knownMounts(String key) {
        SnapshotRecord r = store.find(key);
        return r == null || r.kind() == Kind.COMMITTED ? null : mounts.known(r.id());
    }

    public void commit(String name, String key, Map<String, String> labels) {
        MetadataStore.Pending p = store.reserveCommit(name, key);
        try {
            SnapshotRecord active = p.source();
            boolean byDriver = mountedByDriver(active);
            Usage usage;
            if (mounts.describesMounts() && !byDriver) {
                java.nio.file.Path content = mounts.ownContent(active.id(), active.layer()); // before release forgets the spec
                mounts.release(active.id(), active.layer());
                usage = DiskUsage.of(content);
            } else {
                mounts.release(active.id(), active.layer(), byDriver);
                usage = DiskUsage.of(mounts.ownContent(active.layer()));
                if (!mounts.describesMounts()) mounts.release(active.id(), active.layer()); // usage mounted it again
            }
            store.finishCommit(p, active.committed(name, withoutEmpty(labels), Instant.now(), usage));
        } catch (RuntimeException e) {
            store.abandon(p);
            throw e;
        }
    }

    /**
     * Removes the snapshot: its record at once, what Strata mounted for it before returning. Its layer is deleted
     * by the next {@link #cleanup} (containerd's garbage collector calls it after removals), as containerd's
     * overlayfs defers its directories to Cleanup, which keeps deletions off the calls' path. A client that never
     * calls Cleanup still gets the space back: the background sweep deletes layers removed more than
     * {@value #DEFERRED_REMOVAL_SECONDS} s ago (so within twice that), and leaves newer ones to Cleanup rather than
     * deleting them under the calls in progress.
     */
    public void remove(String key) {
        SnapshotRecord r = store.remove(key);
        try {
            mounts.release(r.id(), r.layer(), mountedByDriver(r));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "removed snapshot {0}; what Strata mounted for it stays until the next cleanup: {1}", key, e.getMessage());
        }
        if (r.layer() != null) removed.add(new Removed(r.layer(), System.nanoTime()));
    }

    /**
     * Deletes the layers of snapshots removed at least {@code minAgeNanos} ago, in the order they were removed (a
     * child's before its parent's).
     */
    private synchronized void deleteRemovedLayers(long minAgeNanos) {
        long now = System.nanoTime();
        for (Removed head; (head = removed.peek()) != null && now - head.at() >= minAgeNanos; ) {
            removed.poll();
            String layer = head.layer();
            try {
                driver.remove(layer);
            } catch (LayerUnknownException gone) {
                // removed by a cleanup meanwhile
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "layer {0} of a removed snapshot stays until the next cleanup: {1}", layer, e.getMessage());
            }
        }
    }

    public SnapshotInfo stat(String key) {
        return store.info(store.get("stat", key));
    }

    /**
     * containerd's UpdateInfo: only labels change. No field path replaces every label; {@code labels} does too;
     * {@code labels.<key>} sets or (given no value) deletes one. Anything else is refused.
     */
    public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths) {
        for (String path : fieldPaths) {
            if (!path.equals("labels") && !path.startsWith("labels.")) {
                throw new SnapshotException(Reason.INVALID_ARGUMENT, "update", info.name(), "cannot update \"" + path + "\" field on snapshot");
            }
        }
        SnapshotRecord u = store.update(info.name(), r -> {
            Map<String, String> labels = fieldPaths.isEmpty() ? new HashMap<>(info.labels()) : new HashMap<>(r.labels());
            for (String path : fieldPaths) {
                if (path.equals("labels")) {
                    labels = new HashMap<>(info.labels());
                } else {
                    String k = path.substring("labels.".length());
                    String v = info.labels().get(k);
                    if (v == null || v.isEmpty()) labels.remove(k);
                    else labels.put(k, v);
                }
            }
            return r.withLabels(IdMapLabels.keep(r.labels(), withoutEmpty(labels)), Instant.now());
        });
        return store.info(u);
    }

    /** Live for an active snapshot (its own layer only), as stored at commit otherwise. */
    public Usage usage(String key) {
        SnapshotRecord r = store.get("usage", key);
        if (r.kind() != Kind.ACTIVE) return r.usage();
        return DiskUsage.of(mountedByDriver(r) ? mounts.ownContent(r.layer()) : mounts.ownContent(r.id(), r.layer()));
    }

    /** Every snapshot matching any of the filters, in name order. */
    public void walk(List<String> filters, Consumer<SnapshotInfo> each) {
        Predicate<SnapshotInfo> match = Filters.parseAll(filters);
        store.all().stream().map(store::info).filter(match).sorted(Comparator.comparing(SnapshotInfo::name)).forEach(each);
    }

    /**
     * Removes what no snapshot holds: mounts Strata made for snapshots that are gone or committed, and layers named
     * like the snapshotter's that no record names (a create or a remove that was cut short).
     */
    public synchronized void cleanup() {
        deleteRemovedLayers(0);
        mounts.sweep(id -> {
            SnapshotRecord r = store.byId(id);
            return creating.contains(id) || r != null && r.kind() != Kind.COMMITTED;
        });
        // listed before the records are read: a layer listed was made after its create registered in `creating`
        List<String> ours = driver.layers().stream().filter(l -> l.startsWith(LAYER_PREFIX)).toList();
        Set<String> keep = store.layersInUse(creating.stream().map(id -> LAYER_PREFIX + id).collect(java.util.stream.Collectors.toSet()));
        List<String> orphans = new ArrayList<>(ours.stream().filter(l -> !keep.contains(l)).toList());
        // Orphans can be parent and child (a committed layer and its child, both cut short): the driver refuses a
        // parent with children, so each pass removes what it can, children first, until a pass removes nothing.
        boolean progress = true;
        while (!orphans.isEmpty() && progress) {
            progress = false;
            for (java.util.Iterator<String> it = orphans.iterator(); it.hasNext(); ) {
                String layer = it.next();
                try {
                    String id = layer.substring(LAYER_PREFIX.length());
                    mounts.release(id, layer, true); // an orphan may have been mounted with get (id maps)
                    driver.remove(layer);
                    LOG.log(System.Logger.Level.INFO, "removed layer {0}, which no snapshot holds", layer);
                    it.remove();
                    progress = true;
                } catch (LayerUnknownException gone) {
                    it.remove(); // removed meanwhile
                    progress = true;
                } catch (RuntimeException e) {
                    if (!hasChildIn(layer, orphans)) {
                        LOG.log(System.Logger.Level.WARNING, "cannot remove layer {0} yet: {1}", layer, e.getMessage());
                        it.remove();
                    }
                }
            }
        }
    }

    /** Whether another of {@code layers} is a child of {@code layer} (then it goes first). */
    private boolean hasChildIn(String layer, List<String> layers) {
        for (String l : layers) {
            try {
                if (layer.equals(driver.parent(l))) return true;
            } catch (RuntimeException gone) {
                // removed meanwhile
            }
        }
        return false;
    }

    private boolean exists(String name) {
        try {
            store.get("stat", name);
            return true;
        } catch (SnapshotException e) {
            return false;
        }
    }

    /**
     * Whether the snapshot's layer was made with id maps (its labels asked for them, and containerd's client had not
     * chown'ed its parent already), so that Strata mounts it with get rather than describing it.
     */
    private boolean mountedByDriver(SnapshotRecord r) {
        if (!IdMapLabels.present(r.labels()) || r.layer() == null) return false;
        try {
            return !driver.idMaps(r.layer()).isNone();
        } catch (LayerUnknownException gone) {
            return false;
        }
    }

    /** The owner of a layer's root as a child sees it, {uid, gid}: read through a get, as every driver has one. */
    private int[] rootOwner(String layer) {
        Path root = driver.get(layer, null);
        try {
            var st = PosixFiles.lstat(root);
            return new int[]{st.uid(), st.gid()};
        } finally {
            driver.put(layer);
        }
    }

    /** The layer whose content a snapshot shows: its own, or for a view without one, its parent's. */
    private String contentLayer(SnapshotRecord r) {
        if (r.layer() != null) return r.layer();
        return store.byId(r.parentId()).layer();
    }

    /** containerd drops labels whose value is empty. */
    private static Map<String, String> withoutEmpty(Map<String, String> labels) {
        if (labels == null) return Map.of();
        Map<String, String> out = new HashMap<>();
        labels.forEach((k, v) -> {
            if (v != null && !v.isEmpty()) out.put(k, v);
        });
        return out;
    }

    /**
     * Closes the store. The driver is cleaned up (its mounts and devices released) only when no snapshot holds a
     * mount Strata made: containerd may still run containers on those, and a restarted snapshotter takes them over.
     */
    @Override
    public void close() {
        sweeper.shutdownNow();
        deleteRemovedLayers(0);
        try {
            if (!holdsMounts()) driver.close();
            else LOG.log(System.Logger.Level.INFO, "leaving the mounts of active snapshots in place for containerd");
        } finally {
            store.close();
        }
    }

    /**
     * Unmounts everything Strata mounted for snapshots and cleans the driver up, for when containerd is done with
     * this root for good (its snapshots stay): what an operator's teardown or a test does before deleting the root.
     */
    public void releaseMounts() {
        mounts.sweep(id -> false);
        for (SnapshotRecord r : store.all()) mounts.release(r.id(), r.layer(), mountedByDriver(r));
        driver.close();
    }

    private boolean holdsMounts() {
        if (mounts.count() > 0) return true;
        for (SnapshotRecord r : store.all()) {
            boolean got = !mounts.describesMounts() || mountedByDriver(r);
            if (got && r.layer() != null && driver.references(r.layer()) > 0) return true;
        }
        return false;
    }
}
