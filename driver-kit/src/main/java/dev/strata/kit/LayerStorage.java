package dev.strata.kit;

import dev.strata.api.Capabilities;
import dev.strata.api.LayerStore;
import dev.strata.api.StatusEntry;
import dev.strata.api.Support;
import dev.strata.archive.LayerDiffs;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The storage work of a driver, and nothing else: what a driver implements to get a whole
 * {@link dev.strata.api.StorageDriver} from {@link DriverKit#wrap}. The kit enforces the contract around every call:
 * ids and parents are valid ({@link dev.strata.api.LayerIds}), options are never null, the right locks are held,
 * and an operation that fails, is interrupted or is killed leaves what existed before it.
 *
 * <p>What the kit guarantees when it calls each method, and what the method must do, is said on the method. Methods
 * not marked "under the home lock" may run concurrently for different ids. Errors are
 * {@link dev.strata.api.StorageException}s that name the operation and the path or layer.
 */
public interface LayerStorage {
    // ---- what the driver is

    /** The name users select the driver by. */
    String name();

    /** {@code <root>/<name>}, made by the storage when it opens. The kit keeps its state in {@code <home>/.strata}. */
    Path home();

    Capabilities capabilities();

    /** Ordered key/value pairs, as {@code docker info} shows them. */
    List<StatusEntry> status();

    // ---- layers

    /**
     * Whether a complete layer {@code id} is stored. A missing layer is {@code false}; any other error (an unreadable
     * home, say) throws. The kit has already answered {@code false} for a layer with an unfinished create or remove.
     */
    boolean exists(String id);

    /** The parent of an existing layer, or null for a base layer. */
    String parent(String id);

    /** Every complete layer stored, in no particular order (the kit leaves out those with unfinished operations). */
    List<String> layers();

    /** {@link #layers} with each one's parent (null for none); a storage that keeps them together reads them once. */
    default Map<String, String> parents() {
        Map<String, String> parents = new HashMap<>();
        for (String id : layers()) parents.put(id, parent(id));
        return parents;
    }

    /**
     * Makes a layer. Under the home lock: the id is free (no layer, no unfinished operation) and the parent, when
     * there is one, exists and cannot be removed or applied to until this returns. The layer's commit point (the
     * moment {@link #exists} turns true) must be the last thing that happens: a create killed after it is kept,
     * one killed before it is undone through {@link #remove}, and so is one that throws.
     */
    void create(NewLayer layer);

    /**
     * Whether {@link #create} takes a moment (directories and small files, a thin snapshot: no copying), so that
     * the kit makes it holding its home lock and without a crash mark. Such a create must sweep, before anything
     * else, what an earlier create of the same id cut short (a kill leaves it for the next create of that id).
     * Default false: a create the kit marks and runs outside its lock (vfs copies its parent).
     */
    default boolean createsQuickly() {
        return false;
    }

    /**
     * Removes whatever is stored for {@code id}: a complete layer, what a failed or killed create left, or what a
     * killed remove left; nothing at all is not an error. The kit has unmounted it (through {@link #unmount}) and
     * made sure it has no children; it is already not reported.
     */
    void remove(String id);

    /** Driver-specific facts about an existing layer (UpperDir, DeviceName, ...). */
    Map<String, String> metadata(String id);

    // ---- mounts: the kit counts references and calls these under the id's lock

    /** The directory {@link dev.strata.api.LayerStore#get} returns for an existing layer. Cheap: called on every get. */
    Path root(String id);

    /**
     * Whether {@link #root} needs {@link #mount} to be usable. A layer that needs none (a plain directory, overlay's
     * base layer) is counted without a lock. Asked once per id and process, so it must not change in a layer's life.
     */
    default boolean needsMount(String id) {
        return true;
    }

    /** Makes {@link #root} usable (mounts it): the first reference. A failure must leave nothing mounted. */
    void mount(String id, String mountLabel);

    /** Undoes {@link #mount}: the last reference, a remove or a cleanup. Not mounted is not an error. */
    void unmount(String id);

    /**
     * Whether {@link #root} is usable right now without {@link #mount}: mounted, or a layer that needs no mount.
     * The kit checks persisted reference counts against it, so a count left by a crash or a reboot starts again.
     */
    boolean isMounted(String id);

    /**
     * {@link #mount} unless {@link #isMounted}, then {@link #root}: the first reference to a layer whose count the
     * kit cannot trust (the first it meets in this process, or one a kill left), so that a mount nobody counted is
     * adopted, not made twice. A storage may answer all three in fewer calls than asking each in turn.
     */
    default Path mountUnlessMounted(String id, String mountLabel) {
        if (!isMounted(id)) mount(id, mountLabel);
        return root(id);
    }

    /**
     * {@link #unmount} if {@link #isMounted}: the last reference to a layer whose count the kit cannot trust. A
     * storage whose unmount finds out by itself may skip the question.
     */
    default void unmountIfMounted(String id) {
        if (isMounted(id)) unmount(id);
    }

    // ---- diffs

    /**
     * The diff, changes and diffSize of this driver, made once when the kit opens. {@code layers} is the kit's own
     * store: get and put through it are reference-counted (what {@link dev.strata.archive.NaiveDiff} needs).
     */
    LayerDiffs diffs(LayerStore layers);

    /**
     * Prepares a private copy of the layer's content for an apply (for an empty layer: an empty directory; for one
     * with content, a copy that costs no data: hardlinks, a reflink, a thin snapshot). The kit guarantees the layer
     * exists, is not mounted, has no children and no other apply is running on it; it applies the tar into
     * {@link StagedApply#root()}, then {@link StagedApply#commit() commits} or {@link StagedApply#discard()
     * discards}. {@code parent} is what the caller passed to applyDiff (null for none).
     */
    StagedApply stageApply(String id, String parent);

    /**
     * Drops what {@link #stageApply} left for {@code id} when the process died before committing or discarding
     * (after a commit too: then it is the layer's old content), unmounting what it mounted. Never touches the layer
     * itself, but to put back its content where a commit had set it aside ({@link DirectoryStaging}). Called when
     * the kit opens, for every apply a crash or kill cut short, and for every id {@link #cutShort} names.
     */
    void discardStaged(String id);

    // ---- id maps

    /**
     * Whether this storage can show layers made with id maps ({@link dev.strata.api.LayerStore#idMaps}) here, and
     * how, in a few words for status and {@code strata drivers} (idmapped lowers, a chown copy); a probe decides it
     * where the kernel or the filesystem does. When not, the kit refuses maps with the reason.
     */
    default Support idMapSupport() {
        return Support.no(name() + " cannot show layers under id maps");
    }

    /**
     * How {@code id}, a layer made with id maps, is shown under them, in a word or two for its metadata
     * ({@code IdMapMethod}): "idmapped lowers", "idmapped mount", "chown copy". Only asked of a supporting storage.
     */
    default String idMapMethod(String id) {
        return idMapSupport().reason();
    }

    /**
     * The maps of every layer, as the kit records them, given once before any other call. A storage that supports
     * maps keeps it: a layer made with maps ({@link NewLayer#options()}) is shown by {@link #root} after
     * {@link #mount} with host ids, its own files and its ancestors' (whose maps may differ) translated from how
     * each was stored; a staged apply into it writes the tar's owners as host ids
     * ({@link dev.strata.archive.ApplyOptions#ids}).
     */
    default void attach(LayerIdMaps idMaps) {
    }

    // ---- driver-wide

    /**
     * After a crash: sweeps the storage's own leftovers (staging directories of creates, half-renamed removals).
     * Called once when the kit opens, under the home lock: no quick create ({@link #createsQuickly}) of another
     * process is running, but a slow create, a remove or an apply may be (each runs outside the lock, under its mark).
     * Runs on every open that takes the lock, so it must be cheap when there is nothing to do; what is only found by
     * reading a large directory belongs in {@link #cutShort}.
     */
    default void recover() {
    }

    /**
     * The ids for which a create, remove or apply cut short may have left something ({@code .new-<id>}, a layer
     * renamed away to be removed, an apply's staged copy: {@link LayerDirectories#cutShort} finds all three for a
     * layer that is one directory), found by looking, with no regard to the kit's marks; in no particular order;
     * names that are not valid ids are ignored. The kit asks once per run directory, when it finds a new one (after a
     * reboot, or after the run directory was swept as stale): the marks that named these operations lived there and
     * are gone. Under the home lock it then calls, for each id, {@link #discardStaged} unless an apply of it is marked,
     * and {@link #remove} if it does not {@link #exists exist} and no process has marked it since; so {@link #remove}
     * must remove what a cut-short create or remove of the id left, and nothing of another id. Default: none.
     */
    default java.util.Collection<String> cutShort() {
        return List.of();
    }

    /** Releases driver-wide resources (devices, the pool). The kit has unmounted every layer it counted. */
    default void cleanup() {
    }
}
