package dev.strata.kit;

import dev.strata.api.LayerBusyException;

import java.util.List;
import java.util.logging.Logger;

/**
 * Finishing what a crash or a kill cut short, by the notes the kit's marks carry:
 * <ul>
 *   <li>{@code create <parent>}: if the storage reached its commit point the layer is complete and stays (the
 *   process died before it could clear the mark); otherwise what was made is removed, with its index entry.</li>
 *   <li>{@code remove}: the layer was past the point of no return; the removal is finished.</li>
 *   <li>an apply mark: the staged copy is dropped; the layer itself was never touched, or was swapped whole.</li>
 *   <li>a mark with no note (made before marks had notes, in {@code <home>/.incomplete} or vfs's
 *   {@code .strata/incomplete}): the layer is removed, as the drivers did then.</li>
 * </ul>
 * All of it runs under the home lock: when the kit opens, or when an operation meets an abandoned mark on its way.
 */
final class KitRecovery {
    static final String CREATE = "create", REMOVE = "remove";
    private static final Logger LOG = Logger.getLogger(KitRecovery.class.getName());

    private final LayerStorage storage;
    private final Marks incomplete;
    private final Marks applying;
    private final ChildIndex index;
    private final RefCounts refs;
    private final IdMapRecords idMaps;
    private final Marks legacy;

    KitRecovery(LayerStorage storage, Marks incomplete, Marks applying, ChildIndex index, RefCounts refs, IdMapRecords idMaps,
                Marks legacy) {
        this.storage = storage;
        this.incomplete = incomplete;
        this.applying = applying;
        this.index = index;
        this.refs = refs;
        this.idMaps = idMaps;
        this.legacy = legacy;
    }

    static String createNote(String parent) {
        return CREATE + " " + (parent == null ? "" : parent);
    }

    /** At open: finishes every abandoned operation. Costs two directory reads when there is none. */
    void atOpen(Flock homeLock) {
        List<String> applies = applying.abandoned();
        List<String> others = incomplete.abandoned();
        List<String> old = legacy.directory().toFile().isDirectory() ? legacy.abandoned() : List.of();
        if (applies.isEmpty() && others.isEmpty() && old.isEmpty()) return;
        homeLock.locked(() -> {
            for (String id : applying.abandoned()) finishApply(id);
            for (String id : incomplete.abandoned()) finishIncomplete(id);
            for (String id : legacy.abandoned()) {
                try {
                    storage.unmount(id);
                    storage.remove(id);
                    idMaps.forget(id);
                    refs.forget(id);
                    index.drop(id);
                    legacy.clear(id);
                } catch (RuntimeException e) {
                    LOG.warning("cannot finish removing half-made layer " + id + " yet: " + e.getMessage());
                }
            }
            if (legacy.list().isEmpty()) legacy.directory().toFile().delete();
        });
    }

    /**
     * Before an operation on {@code id}: a mark of a live process means someone else is working on the layer;
     * an abandoned one is finished now. Returns whether something was finished. Call under the home lock.
     */
    boolean settle(String op, String id) {
        if (!incomplete.isMarked(id)) return false;
        switch (incomplete.state(id)) {
            case LIVE -> throw new LayerBusyException(op, id, "another process is creating or removing this layer right now");
            case ABANDONED -> {
                finishIncomplete(id);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** Finishes an abandoned create or remove of {@code id}. */
    void finishIncomplete(String id) {
        String note = incomplete.note(id);
        if (note == null) return; // cleared meanwhile
        if (note.startsWith(CREATE)) {
            String p = note.substring(CREATE.length()).strip();
            String parent = p.isEmpty() ? null : p;
            if (storage.exists(id)) { // the storage's commit point was reached: the layer is whole
                incomplete.clear(id);
                return;
            }
            storage.remove(id);
            idMaps.forget(id);
            refs.forget(id);
            if (parent != null) index.remove(parent, id);
            index.drop(id);
            incomplete.clear(id);
            return;
        }
        storage.unmount(id);
        storage.remove(id);
        idMaps.forget(id);
        refs.forget(id);
        index.drop(id);
        incomplete.clear(id);
    }

    /** Drops what an abandoned apply staged; the layer stays as it is. */
    void finishApply(String id) {
        storage.discardStaged(id);
        applying.clear(id);
    }
}
