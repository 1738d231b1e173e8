package dev.strata.kit;

import dev.strata.api.LayerBusyException;
import dev.strata.api.StorageException;
import dev.strata.archive.LayerArchive;

import java.io.InputStream;
import java.util.List;

/**
 * applyDiff, all or nothing: the tar goes into a staged copy of the layer ({@link LayerStorage#stageApply}), and
 * only a complete apply is swapped in ({@link StagedApply#commit}). Whatever fails before the swap (a bad or
 * truncated stream, an unsupported compression, a full disk, an interrupt) drops the copy and leaves the layer
 * exactly as it was; a kill leaves an apply mark, and the next open drops the copy.
 *
 * <p>Refused up front, with the layer unchanged: a layer with children (they would see the change), a mounted
 * layer (its mount would keep the old content), and a second apply to the same layer while one runs. A child
 * cannot be made on a layer being applied, nor the layer removed.
 */
final class KitApply {
    private final KitDriver kit;
    private final Marks applying;
    private final KitRecovery recovery;

    KitApply(KitDriver kit, Marks applying, KitRecovery recovery) {
        this.kit = kit;
        this.applying = applying;
        this.recovery = recovery;
    }

    /** Refuses {@code op} on {@code id} while {@code layer} is being applied; finishes an abandoned apply. Under the home lock. */
    void requireNotApplying(String op, String id, String layer) {
        if (!applying.isMarked(layer)) return;
        switch (applying.state(layer)) {
            case LIVE -> throw new LayerBusyException(op, id, "layer " + layer + " is being applied right now");
            case ABANDONED -> recovery.finishApply(layer);
            default -> {
            }
        }
    }

    void apply(String id, String parent, InputStream diff, Flock homeLock) {
        kit.refs.withLock(id, () -> homeLock.locked(() -> {
            kit.requireExists("applyDiff", id);
            refuseIfInUse(id, "");
            requireNotApplying("applyDiff", id, id);
            if (!applying.mark(id, "apply")) throw new LayerBusyException("applyDiff", id, "layer " + id + " is being applied right now");
            return null;
        }));
        StagedApply staged = null;
        boolean committed = false;
        try {
            staged = kit.storage.stageApply(id, parent);
            LayerArchive.apply(staged.root(), diff, staged.options());
            StagedApply s = staged;
            kit.refs.exclusive(id, () -> homeLock.locked(() -> { // no get without the lock while the content is swapped
                refuseIfInUse(id, " while the diff was applied");
                s.commit();
                return null;
            }));
            committed = true;
        } catch (RuntimeException | Error e) {
            try {
                if (staged != null) staged.discard();
                else kit.storage.discardStaged(id);
                applying.clear(id);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
                applying.release(id); // the next open drops the copy
            }
            if (e instanceof Error err) throw err;
            String why = e instanceof StorageException se ? se.detail() : e.toString();
            String unchanged = "layer " + id + " unchanged";
            throw new StorageException("applyDiff", id, why.endsWith(unchanged) ? why : why + "; " + unchanged, e);
        } finally {
            if (committed) {
                try {
                    staged.discard(); // the old content
                    applying.clear(id);
                } catch (RuntimeException e) {
                    applying.release(id); // applied; the old content is dropped at the next open
                }
            }
        }
    }

    /** Children or references: applying now would change what they see, or what a mount keeps showing. */
    private void refuseIfInUse(String id, String when) {
        List<String> children = kit.children(id);
        if (!children.isEmpty()) {
            throw new LayerBusyException("applyDiff", id, "layer has " + children.size() + " child layer(s) ("
                    + String.join(", ", children.subList(0, Math.min(5, children.size()))) + (children.size() > 5 ? ", ..." : "")
                    + ")" + when + ": applying a diff would change what they see; layer " + id + " unchanged");
        }
        int n = kit.refs.count(id);
        if (n > 0) {
            throw new LayerBusyException("applyDiff", id, "layer is mounted (" + n + " reference(s))" + when
                    + "; put it before applying a diff; layer " + id + " unchanged");
        }
    }
}
