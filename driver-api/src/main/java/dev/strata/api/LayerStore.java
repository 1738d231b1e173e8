package dev.strata.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Layers and their mounts: the half of the contract that moby calls ProtoDriver.
 *
 * <p>Ids are caller-chosen single path components ({@link LayerIds}). A parent of {@code null} or {@code ""}
 * means none, and so do options of {@code null}. An operation that fails, is interrupted or is killed leaves what
 * existed before it; a later call never sees half of it.
 */
public interface LayerStore {
    /**
     * Makes a read-only (image) layer on top of {@code parent}. With {@link CreateOptions#idMaps} the layer is for a
     * container in that user namespace: see {@link #idMaps}.
     */
    void create(String id, String parent, CreateOptions options);

    /** Makes a read-write (container) layer on top of {@code parent}; id maps as for {@link #create}. */
    void createReadWrite(String id, String parent, CreateOptions options);

    /**
     * Removes the layer, unmounting it first if it is mounted. Never leaves a layer that {@link #exists} still
     * reports. A layer that still has children is not removed ({@link LayerBusyException}).
     */
    void remove(String id);

    /**
     * Returns the layer's root directory, mounting it on the first reference. References are counted per id,
     * across threads and across driver instances on the same home.
     */
    Path get(String id, String mountLabel);

    /** Releases one reference taken by {@link #get}; the last one unmounts. A put too many is harmless. */
    void put(String id);

    /**
     * Whether a complete layer with this id exists. A layer whose create did not finish does not; one whose remove
     * started does not either. An error is not an answer: a bad id ({@link InvalidLayerIdException}) or storage
     * that cannot be read throws.
     */
    boolean exists(String id);

    /** The number of {@link #get} references now held on the layer. */
    int references(String id);

    /**
     * The id maps the layer was made with ({@link IdMaps#NONE} if none). A layer with maps is shown by {@link #get}
     * with host ids: every file of it and of its parents as the map shows the owner it was stored with (an image's
     * root-owned files as the mapped root), ids outside the map as {@link IdMaps#OVERFLOW_ID}, and a file a process
     * of the container creates with the host id it has. Its diffs and changes carry container ids, as engines expect,
     * and a diff applied to it is read with container ids.
     */
    IdMaps idMaps(String id);

    /** The parent of a layer, or null for a base layer. */
    String parent(String id);

    /** Every complete layer, in no particular order. */
    List<String> layers();

    /**
     * Every complete layer with its parent and reference count, in no particular order: what a listing needs, in
     * one pass. A driver that keeps these facts together answers without the per-layer checks of {@link #parent}.
     */
    default List<LayerEntry> entries() {
        return layers().stream().map(id -> new LayerEntry(id, parent(id), references(id))).toList();
    }

    /** Ordered key/value pairs describing the driver, as in {@code docker info}. */
    List<StatusEntry> status();

    /** Driver-specific facts about one layer (moby's GetMetadata: UpperDir, LowerDir, DeviceName, ...). */
    Map<String, String> metadata(String id);

    /** Unmounts everything this driver mounted and releases its devices. The layers stay. */
    void cleanup();
}
