package dev.strata.kit;

import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerIds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Logger;

/**
 * Finishing what a crash or a kill cut short, by the notes the kit's marks carry:
 * <ul>
 *   <li>{@code create <parent>}: if the storage reached its commit point the layer is complete and stays (the
 *   process died before it could clear the mark); otherwise what was made is removed, with its index entry.</li>
 *   <li>a remove (an empty note): the layer was past the point of no return; the removal is finished.</li>
 *   <li>an apply mark: the staged copy is dropped; the layer itself was never touched, or was swapped whole.</li>
 *   <li>a mark left by a driver from before the kit (in {@code <home>/.incomplete} or vfs's
 *   {@code <home>/.strata/incomplete}; empty, like a remove's): the layer is removed, as those drivers did.</li>
 * </ul>
 * All of it runs under the home lock: when the kit opens, or when an operation meets an abandoned mark on its way.
 *
 * <p>Marks live in the run directory, so they are gone after a reboot or after the run directory was swept as stale
 * ({@link StaleRunDirectories}); so are the abandoned marks of what a kill cut short just before, and a quick create
 * ({@link LayerStorage#createsQuickly}) never has one. So once per run directory (until {@link #SWEPT} is written in
 * it) the open also asks the storage what it finds cut short by looking ({@link LayerStorage#cutShort}), drops each
 * such id's staged apply unless an apply of it is marked, and removes each that is not a layer and has no mark. That
 * is safe whoever else has the home open, because it runs under the home lock: every process that shares this run
 * directory makes a quick create whole under that lock, and marks any other create, remove or apply under it before
 * it makes, removes or stages anything. A process that kept the home lock
 * of a run directory the stale sweep deleted (its home deleted, then made again at the same path) locks the new one
 * from its next use on ({@link Flock#keptOpenRechecked}). What a process on another run directory for the same home
 * does is not seen (two {@code STRATA_RUN_DIR}s, the home reached by two real paths): the kit never supported that,
 * its reference counts neither.
 */
final class KitRecovery {
    /** Notes: a create names its parent; a remove's note is empty (no write to make), as the drivers' old marks were. */
    static final String CREATE = "create", REMOVE = "";
    /** In the run directory: written once {@link LayerStorage#cutShort} has been swept for it. */
    static final String SWEPT = "swept";
    /** Got when a warning is due: java.util.logging costs every command's start ~5 ms to set up. */
    private static Logger log() {
        return Logger.getLogger(KitRecovery.class.getName());
    }

    private final LayerStorage storage;
    private final Marks incomplete;
    private final Marks applying;
    private final ChildIndex index;
    private final RefCounts refs;
    private final IdMapRecords idMaps;
    private final List<Marks> legacy;

    KitRecovery(LayerStorage storage, Marks incomplete, Marks applying, ChildIndex index, RefCounts refs, IdMapRecords idMaps,
                List<Marks> legacy) {
        this.storage = storage;
        this.incomplete = incomplete;
        this.applying = applying;
        this.index = index;
        this.refs = refs;
        this.idMaps = idMaps;
        this.legacy = legacy;
    }

    /** Whether {@code storage} overrides {@link LayerStorage#recover} (read, not declared, so it cannot drift). */
    private static boolean sweeps(LayerStorage storage) {
        try {
            return storage.getClass().getMethod("recover").getDeclaringClass() != LayerStorage.class;
        } catch (NoSuchMethodException e) {
            return true;
        }
    }

    static String createNote(String parent) {
        return CREATE + " " + (parent == null ? "" : parent);
    }

    /**
     * At open: finishes every abandoned operation, then lets the storage sweep its own leftovers
     * ({@link LayerStorage#recover}), and on a run directory {@code run} not swept yet what it finds cut short
     * ({@link #sweepCutShort}). Costs a few directory reads and a stat when there is nothing to do, and the home lock
     * only for a storage that has a sweep or a run directory not swept yet.
     */
    void atOpen(Flock homeLock, Path run) {
        Path swept = run.resolve(SWEPT);
        boolean any = !applying.abandoned().isEmpty() || !incomplete.abandoned().isEmpty() || !Files.exists(swept);
        for (Marks m : legacy) any |= Files.isDirectory(m.directory());
        if (!any) {
            // Only a storage with a sweep of its own needs the lock now. The others spare every open it, and a
            // read-only command (exists, layers) its only native calls: making their handles was ~30% of its start.
            if (sweeps(storage)) homeLock.locked(storage::recover);
            return;
        }
        homeLock.locked(() -> {
            for (String id : applying.abandoned()) finishApply(id);
            for (String id : incomplete.abandoned()) finishIncomplete(id, incomplete);
            for (Marks m : legacy) {
                for (String id : m.abandoned()) {
                    try {
                        finishIncomplete(id, m);
                    } catch (RuntimeException e) {
                        log().warning("cannot finish what an older driver left for layer " + id + " yet: " + e.getMessage());
                    }
                }
                if (m.list().isEmpty()) {
                    try {
                        Files.deleteIfExists(m.directory());
                    } catch (IOException e) {
                        log().warning("cannot remove " + m.directory() + ": " + e);
                    }
                }
            }
            storage.recover();
            if (!Files.exists(swept) && sweepCutShort()) {
                try {
                    Files.write(swept, new byte[0]);
                } catch (IOException e) {
                    log().warning("cannot write " + swept + " (the next open sweeps again): " + e);
                }
            }
        });
    }

    /**
     * For each id the storage finds cut short ({@link LayerStorage#cutShort}): drops what an apply staged unless an
     * apply of it is marked ({@link LayerStorage#discardStaged}, which puts the layer's content back if a commit had
     * set it aside), then removes what is stored for it if it is not a layer and has no mark. A mark now is a live
     * process's (the abandoned ones were finished first), whose work this must not touch; every operation marks under
     * the home lock, which this holds. Whether all of it went.
     */
    private boolean sweepCutShort() {
        boolean all = true;
        for (String id : storage.cutShort()) {
            try {
                LayerIds.check("recover", id);
            } catch (InvalidLayerIdException notOurs) {
                continue;
            }
            try {
                if (!applying.isMarked(id)) storage.discardStaged(id);
                if (incomplete.isMarked(id) || storage.exists(id)) continue;
                storage.remove(id);
                idMaps.forget(id);
            } catch (RuntimeException e) {
                all = false;
                log().warning("cannot remove what an operation on layer " + id + " cut short left (the next open tries again): " + e.getMessage());
            }
        }
        return all;
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
                finishIncomplete(id, incomplete);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** Finishes an abandoned create or remove of {@code id}. */
    void finishIncomplete(String id) {
        finishIncomplete(id, incomplete);
    }

    private void finishIncomplete(String id, Marks marks) {
        String note = marks.note(id);
        if (note == null) return; // cleared meanwhile
        if (note.startsWith(CREATE)) {
            String p = note.substring(CREATE.length()).strip();
            String parent = p.isEmpty() ? null : p;
            if (storage.exists(id)) { // the storage's commit point was reached: the layer is whole
                marks.clear(id);
                return;
            }
            storage.remove(id);
            idMaps.forget(id);
            refs.forget(id);
            if (parent != null) index.remove(parent, id);
            index.drop(id);
            marks.clear(id);
            return;
        }
        storage.unmount(id);
        storage.remove(id);
        idMaps.forget(id);
        refs.forget(id);
        index.drop(id);
        marks.clear(id);
    }

    /** Drops what an abandoned apply staged; the layer stays as it is. */
    void finishApply(String id) {
        storage.discardStaged(id);
        applying.clear(id);
    }
}
