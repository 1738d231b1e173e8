package dev.strata.kit;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.IdMaps;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerEntry;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.NotSupportedException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import dev.strata.archive.LayerDiffs;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The contract, enforced once around a {@link LayerStorage}: ids and parents, existence and children, crash marks
 * and the failure policy, locks and reference counts. See {@link DriverKit} for what it promises.
 *
 * <p>Locks, always taken in this order: the id's reference-count stripe ({@link RefCounts#withLock}), then the
 * home lock (creates, removes, the start and the commit of applies), then whatever the storage locks inside
 * (devmapper's pool). get and put take only the first, and only when they may mount or unmount (see {@link #get}).
 */
class KitDriver implements StorageDriver {
    final LayerStorage storage;
    private final Flock homeLock;
    final Marks incomplete;
    private final ChildIndex index;
    final RefCounts refs;
    private final LayerDiffs diffs;
    private final IdMapRecords idMaps;
    private final KitApply apply;
    private final KitRecovery recovery;

    KitDriver(LayerStorage storage) {
        this.storage = storage;
        Path run = RunDirectory.forKit(storage.home());
        this.homeLock = Flock.keptOpenRechecked(run.resolve(DriverKit.HOME_LOCK)); // taken by every create and remove; cleanup closes it
        this.incomplete = new Marks(run.resolve(DriverKit.INCOMPLETE));
        Marks applying = new Marks(run.resolve(DriverKit.APPLYING));
        this.index = new ChildIndex(run.resolve("children"), storage.home().resolve(DriverKit.STATE_DIR).resolve("children"));
        this.refs = new RefCounts(run.resolve("refs"), storage::isMounted, id -> new RefCounts.Layer(storage.root(id), storage.needsMount(id)));
        this.idMaps = new IdMapRecords(storage.home().resolve(DriverKit.STATE_DIR).resolve("idmaps"));
        storage.attach(idMaps);
        this.recovery = new KitRecovery(storage, incomplete, applying, index, refs, idMaps, List.of(
                new Marks(storage.home().resolve(".incomplete")), // the drivers' own, before the kit
                new Marks(storage.home().resolve(DriverKit.STATE_DIR).resolve("incomplete"))));
        this.apply = new KitApply(this, applying, recovery);
        this.diffs = storage.diffs(this);
        recovery.atOpen(homeLock, run);
    }

    // ---------------------------------------------------------------------------------------------- layers

    @Override
    public void create(String id, String parent, CreateOptions options) {
        make(new NewLayer(LayerIds.check("create", id), LayerIds.checkParent("create", parent), false, options));
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions options) {
        make(new NewLayer(LayerIds.check("createReadWrite", id), LayerIds.checkParent("createReadWrite", parent), true, options));
    }

    /**
     * A quick create ({@link LayerStorage#createsQuickly}) runs whole under the home lock, with no mark. Any other is
     * registered as being made (a mark naming its parent, an entry in the parent's children) under the home lock,
     * then made without the lock, so a slow create (vfs copies its parent) does not hold up the others: a parent
     * with a child being made counts that child, so it cannot be removed meanwhile.
     */
    private void make(NewLayer layer) {
        String op = layer.operation(), id = layer.id(), p = layer.parent();
        IdMaps maps = layer.options().idMaps();
        if (!maps.isNone()) {
            Support s = storage.idMapSupport();
            if (!s.supported()) throw new NotSupportedException(op, id, "id maps (" + maps + "): " + s.reason());
        }
        if (storage.createsQuickly()) {
            homeLock.locked(() -> {
                recovery.settle(op, id);
                if (storage.exists(id)) throw new LayerExistsException(op, id);
                if (p != null) register(op, id, p);
                try {
                    idMaps.record(id, p, maps);
                    storage.create(layer);
                } catch (RuntimeException e) {
                    try {
                        if (!(e instanceof LayerExistsException)) storage.remove(id);
                        idMaps.forget(id);
                    } catch (RuntimeException cleanup) {
                        e.addSuppressed(cleanup); // swept by the next create of the id
                    }
                    throw e;
                }
            });
            return;
        }
        homeLock.locked(() -> {
            mark(op, id, KitRecovery.createNote(p));
            try {
                if (storage.exists(id)) throw new LayerExistsException(op, id);
                if (p != null) register(op, id, p);
                idMaps.record(id, p, maps);
            } catch (RuntimeException e) {
                incomplete.clear(id);
                throw e;
            }
        });
        try {
            storage.create(layer);
        } catch (RuntimeException e) {
            try {
                homeLock.locked(() -> {
                    // Something already there that is not ours to delete (a foreign directory) stays as it is.
                    if (!(e instanceof LayerExistsException)) storage.remove(id);
                    if (p != null) index.remove(p, id);
                    idMaps.forget(id);
                    incomplete.clear(id);
                });
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
                incomplete.release(id); // the next open finishes the undo
            }
            throw e;
        }
        incomplete.clear(id);
    }

    /**
     * Removes a layer all or nothing: under the locks it is unmounted, marked and its children's entries dropped
     * from the index (from here on no call reports it), then the storage deletes it and its entry under its parent
     * goes. A remove that fails or is killed after the mark is
     * finished by the next remove of the same id or the next open; until then the layer is not reported, create
     * refuses the id and remove finishes it.
     */
    @Override
    public void remove(String id) {
        LayerIds.check("remove", id);
        String[] parent = {null};
        boolean finish = refs.withLock(id, () -> homeLock.locked(() -> {
            boolean settled = recovery.settle("remove", id);
            if (!storage.exists(id)) {
                if (settled) return false; // that was a half-done remove or create, now finished
                throw new LayerUnknownException("remove", id);
            }
            parent[0] = parentIfReadable(id);
            apply.requireNotApplying("remove", id, id);
            ensureIndex();
            boolean indexed = index.has(id); // most layers never had a child: one statx, then nothing to drop
            List<String> children = indexed ? children(id) : List.of();
            if (!children.isEmpty()) {
                throw new LayerBusyException("remove", id, "layer has " + children.size() + " child layer(s) ("
                        + String.join(", ", children.subList(0, Math.min(5, children.size())))
                        + (children.size() > 5 ? ", ..." : "") + "); remove them first");
            }
            refs.forget(id); // first: from here on every get and put of the id, in any process, takes the lock and fails
            storage.unmount(id); // remove wins over references, as in moby
            mark("remove", id, KitRecovery.REMOVE);
            if (indexed) index.drop(id);
            return true;
        }));
        if (!finish) return;
        try {
            storage.remove(id);
            idMaps.forget(id);
            // Its entry under its parent goes last, once nothing of it is left, and before the mark: until then the
            // parent counts it (removed by a live process). A kill before this leaves the entry stale, which the
            // parent's next children check drops. No home lock needed: the mark keeps the id from being made again.
            if (parent[0] != null) index.remove(parent[0], id);
        } catch (RuntimeException e) {
            incomplete.release(id);
            String why = e instanceof StorageException se ? se.detail() : e.toString();
            throw new StorageException("remove", id, why + "; the layer is no longer reported, and the next remove of "
                    + id + " (or the next start) finishes removing it", e);
        }
        incomplete.clear(id);
    }

    /**
     * The parent whose index entry a remove drops; null when the layer's record of it cannot be read (a damaged layer
     * must still be removable): its entry then stays, stale, until the parent's next children check drops it.
     */
    private String parentIfReadable(String id) {
        try {
            return storage.parent(id);
        } catch (RuntimeException unreadable) {
            return null;
        }
    }

    /** Checks that the parent exists and is not being applied, and records the child in its index. Under the home lock. */
    private void register(String op, String id, String p) {
        if (incomplete.isMarked(p) || !storage.exists(p)) throw new ParentUnknownException(op, id, p);
        apply.requireNotApplying(op, id, p);
        ensureIndex();
        index.add(p, id);
    }

    /**
     * Marks {@code id} as being made or removed; a mark already there is finished first when it was abandoned, and
     * refused when a live process holds it. Call under the home lock.
     */
    private void mark(String op, String id, String note) {
        if (incomplete.mark(id, note)) return;
        recovery.settle(op, id); // throws when someone is working on the id
        if (!incomplete.mark(id, note)) throw new LayerBusyException(op, id, "another process is creating or removing this layer right now");
    }

    /** The children of a layer: from the index, each checked against its real state. Call under the home lock. */
    List<String> children(String id) {
        ensureIndex();
        List<String> out = new ArrayList<>();
        for (String c : index.children(id)) {
            if (incomplete.isMarked(c)) {
                switch (incomplete.state(c)) {
                    case LIVE -> out.add(c); // being made (or removed) by a live process
                    case ABANDONED -> {
                        String note = incomplete.note(c);
                        if (note == null || !note.startsWith(KitRecovery.CREATE)) { // a remove: gone as far as anyone can see
                            index.remove(id, c); // a create of it again records it again
                            continue;
                        }
                        recovery.finishIncomplete(c); // a create cut short: whole (kept) or undone
                        if (!incomplete.isMarked(c) && storage.exists(c) && id.equals(storage.parent(c))) out.add(c);
                    }
                    case NONE -> {
                        if (storage.exists(c) && id.equals(storage.parent(c))) out.add(c);
                    }
                }
            } else if (storage.exists(c) && id.equals(storage.parent(c))) {
                out.add(c);
            } else {
                index.remove(id, c); // stale: removed since (or removed and made again on another parent)
            }
        }
        return out;
    }

    private void ensureIndex() {
        index.ensureBuilt(storage::parents);
    }

    @Override
    public boolean exists(String id) {
        LayerIds.check("exists", id);
        return !incomplete.isMarked(id) && storage.exists(id);
    }

    void requireExists(String op, String id) {
        if (incomplete.isMarked(id) || !storage.exists(id)) throw new LayerUnknownException(op, id);
    }

    @Override
    public String parent(String id) {
        LayerIds.check("parent", id);
        requireExists("parent", id);
        return storage.parent(id);
    }

    @Override
    public List<String> layers() {
        Set<String> marked = new HashSet<>(incomplete.list());
        List<String> out = new ArrayList<>();
        for (String id : storage.layers()) if (!marked.contains(id)) out.add(id);
        return out;
    }

    /** One listing of the marks and the counted ids instead of a lock and a mark check per layer. */
    @Override
    public List<LayerEntry> entries() {
        Set<String> marked = new HashSet<>(incomplete.list());
        Set<String> counted = new HashSet<>(refs.ids());
        List<LayerEntry> out = new ArrayList<>();
        for (Map.Entry<String, String> e : storage.parents().entrySet()) {
            String id = e.getKey();
            if (marked.contains(id)) continue;
            out.add(new LayerEntry(id, e.getValue(), counted.contains(id) ? refs.count(id) : 0));
        }
        return out;
    }

    @Override
    public IdMaps idMaps(String id) {
        LayerIds.check("idMaps", id);
        requireExists("idMaps", id);
        return idMaps.of(id);
    }

    /** The storage's facts, and the layer's id maps when it has some, with how the storage shows them. */
    @Override
    public Map<String, String> metadata(String id) {
        LayerIds.check("metadata", id);
        requireExists("metadata", id);
        Map<String, String> m = storage.metadata(id);
        IdMaps maps = idMaps.of(id);
        if (maps.isNone()) return m;
        Map<String, String> out = new java.util.LinkedHashMap<>(m);
        out.put("UidMaps", maps.uidSpec());
        out.put("GidMaps", maps.gidSpec());
        out.put("IdMapMethod", storage.idMapMethod(id));
        return out;
    }

    /** The storage's status, and how it shows layers under id maps. */
    @Override
    public List<StatusEntry> status() {
        List<StatusEntry> s = new ArrayList<>(storage.status());
        Support ids = storage.idMapSupport();
        s.add(new StatusEntry("Id Maps", ids.supported() ? ids.reason() : "not supported: " + ids.reason()));
        return s;
    }

    // ---------------------------------------------------------------------------------------------- mounts

    /**
     * A layer this process already counts, mounted or needing no mount, is one compare-and-set in shared memory
     * ({@link RefCounts#tryAcquire}); the rest checks and counts under the id's lock (reentrant, so acquire takes no
     * second flock). A count this process has mapped and checked, still alive under the lock, means the layer exists:
     * a remove forgets the count first. The first reference to a layer whose count is not trusted yet (every new
     * layer) has the storage mount it unless mounted and name its root in one step ({@link LayerStorage#mountUnlessMounted}).
     */
    @Override
    public Path get(String id, String mountLabel) {
        LayerIds.check("get", id);
        Path root = refs.tryAcquire(id);
        if (root != null) return root;
        return refs.withLock(id, () -> {
            if (!refs.knows(id)) requireExists("get", id);
            Path[] mounted = {null}; // the root, when an unchecked count of 0 had the storage mount or adopt it
            refs.acquire(id, () -> storage.mount(id, mountLabel), () -> mounted[0] = storage.mountUnlessMounted(id, mountLabel));
            if (mounted[0] != null) return mounted[0];
            Path known = refs.root(id);
            return known != null ? known : storage.root(id);
        });
    }

    /** A held reference proves the layer exists ({@link RefCounts#release(String, Runnable, RefCounts.Action)}). */
    @Override
    public void put(String id) {
        LayerIds.check("put", id);
        if (refs.tryRelease(id)) return;
        refs.release(id, () -> requireExists("put", id), () -> storage.unmount(id), () -> storage.unmountIfMounted(id));
    }

    @Override
    public int references(String id) {
        LayerIds.check("references", id);
        return refs.count(id);
    }

    /** Unmounts every layer this driver counted and forgets the counts, then releases the storage's resources. */
    @Override
    public void cleanup() {
        RuntimeException first = null;
        for (String id : refs.ids()) {
            try {
                refs.withLock(id, () -> {
                    storage.unmount(id);
                    refs.forget(id);
                    return null;
                });
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        try {
            storage.cleanup();
        } catch (RuntimeException e) {
            if (first == null) first = e;
            else first.addSuppressed(e);
        }
        refs.release();
        homeLock.release();
        if (first != null) throw first;
    }

    // ---------------------------------------------------------------------------------------------- diffs

    private String checkDiffArgs(String op, String id, String parent) {
        LayerIds.check(op, id);
        String p = LayerIds.checkParent(op, parent);
        requireExists(op, id);
        if (p != null && (incomplete.isMarked(p) || !storage.exists(p))) throw new ParentUnknownException(op, id, p);
        return p;
    }

    @Override
    public InputStream diff(String id, String parent) {
        return diffs.diff(id, checkDiffArgs("diff", id, parent));
    }

    @Override
    public List<Change> changes(String id, String parent) {
        return diffs.changes(id, checkDiffArgs("changes", id, parent));
    }

    @Override
    public long diffSize(String id, String parent) {
        return diffs.diffSize(id, checkDiffArgs("diffSize", id, parent));
    }

    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        String p = checkDiffArgs("applyDiff", id, parent);
        apply.apply(id, p, diff, homeLock);
        return diffs.diffSize(id, p);
    }

    // ---------------------------------------------------------------------------------------------- driver

    @Override
    public String name() {
        return storage.name();
    }

    @Override
    public Path home() {
        return storage.home();
    }

    @Override
    public Capabilities capabilities() {
        Capabilities c = storage.capabilities();
        return new Capabilities(c.nativeDiff(), c.quota(), storage.idMapSupport());
    }

    @Override
    public String toString() {
        return "kit(" + storage.name() + " on " + storage.home() + ")";
    }
}
