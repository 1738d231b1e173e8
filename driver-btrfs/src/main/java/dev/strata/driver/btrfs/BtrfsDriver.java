package dev.strata.driver.btrfs;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.RefCounts;
import dev.strata.api.RunDirectory;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.NaiveDiff;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The contract around {@link BtrfsStorage}, kept thin until the driver kit takes it over: id checks, crash marks
 * ({@link IncompleteLayers}, the same failure policy as vfs's: a layer whose create, apply or remove was cut short is
 * removed), the children check, reference counts. Diffs are naive. Nothing is mounted.
 */
final class BtrfsDriver implements StorageDriver {
    private final BtrfsStorage storage;
    private final IncompleteLayers marks;
    private final RefCounts refs;
    private NaiveDiff naive;

    private BtrfsDriver(BtrfsStorage storage) {
        this.storage = storage;
        this.marks = new IncompleteLayers(storage.home().resolve(".strata").resolve("incomplete"));
        this.refs = new RefCounts(RunDirectory.forHome(storage.home()).resolve("refs"), null);
    }

    static BtrfsDriver open(Path home, BtrfsOptions options) {
        BtrfsDriver d = new BtrfsDriver(new BtrfsStorage(home, options));
        for (String id : d.marks.abandoned()) d.refs.withLock(id, () -> {
            d.abandon(id);
            return null;
        });
        return d;
    }

    /** What a cut-short create, apply or remove of {@code id} left goes, the layer with it. */
    private void abandon(String id) {
        storage.discardStaged(id);
        storage.remove(id);
        refs.forget(id);
        marks.clear(id);
    }

    @Override
    public String name() {
        return BtrfsProvider.NAME;
    }

    @Override
    public Path home() {
        return storage.home();
    }

    @Override
    public Capabilities capabilities() {
        return storage.capabilities();
    }

    @Override
    public void create(String id, String parent, CreateOptions options) {
        make("create", id, parent, options, false);
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions options) {
        make("createReadWrite", id, parent, options, true);
    }

    private void make(String op, String id, String parent, CreateOptions options, boolean readWrite) {
        LayerIds.check(op, id);
        String p = LayerIds.checkParent(op, parent);
        refs.withLock(id, () -> {
            if (storage.exists(id) || marks.isIncomplete(id)) throw new LayerExistsException(op, id);
            if (p != null && !exists(p)) throw new ParentUnknownException(op, id, p);
            marks.mark(id);
            try {
                storage.create(id, p, readWrite, options == null ? CreateOptions.NONE : options);
            } catch (RuntimeException e) {
                try {
                    storage.remove(id);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                marks.clear(id);
                throw e;
            }
            marks.clear(id);
            return null;
        });
    }

    @Override
    public void remove(String id) {
        LayerIds.check("remove", id);
        refs.withLock(id, () -> {
            if (!exists(id)) throw new LayerUnknownException("remove", id);
            List<String> children = children(id);
            if (!children.isEmpty()) throw new LayerBusyException("remove", id, "layer has children: " + String.join(", ", children));
            marks.mark(id);
            storage.remove(id);
            refs.forget(id);
            marks.clear(id);
            return null;
        });
    }

    private List<String> children(String id) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : storage.parents().entrySet()) if (id.equals(e.getValue())) out.add(e.getKey());
        return out;
    }

    @Override
    public Path get(String id, String mountLabel) {
        LayerIds.check("get", id);
        if (!storage.exists(id)) throw new LayerUnknownException("get", id);
        refs.acquire(id, () -> storage.mount(id));
        return storage.root(id);
    }

    @Override
    public void put(String id) {
        LayerIds.check("put", id);
        refs.release(id, () -> {
        });
    }

    @Override
    public boolean exists(String id) {
        try {
            LayerIds.check("exists", id);
        } catch (StorageException e) {
            return false;
        }
        return !marks.isIncomplete(id) && storage.exists(id);
    }

    @Override
    public int references(String id) {
        LayerIds.check("references", id);
        return refs.count(id);
    }

    @Override
    public String parent(String id) {
        existing("parent", id);
        return storage.parent(id);
    }

    private void existing(String op, String id) {
        LayerIds.check(op, id);
        if (!exists(id)) throw new LayerUnknownException(op, id);
    }

    @Override
    public List<String> layers() {
        List<String> out = new ArrayList<>();
        for (String id : storage.layers()) if (!marks.isIncomplete(id)) out.add(id);
        return out;
    }

    @Override
    public List<StatusEntry> status() {
        return storage.status();
    }

    @Override
    public Map<String, String> metadata(String id) {
        existing("metadata", id);
        return storage.metadata(id);
    }

    @Override
    public void cleanup() {
        storage.cleanup();
    }

    @Override
    public InputStream diff(String id, String parent) {
        existing("diff", id);
        return naive().diff(id, parent);
    }

    @Override
    public List<Change> changes(String id, String parent) {
        existing("changes", id);
        return naive().changes(id, parent);
    }

    @Override
    public long diffSize(String id, String parent) {
        existing("diffSize", id);
        return naive().diffSize(id, parent);
    }

    /** Into a staged snapshot of the layer, swapped in once complete. The layer is not reported meanwhile. */
    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        existing("applyDiff", id);
        marks.mark(id);
        try {
            BtrfsStagedApply staged = storage.stageApply(id);
            LayerArchive.apply(staged.root(), diff, staged.options());
            staged.commit();
            staged.discard();
        } catch (RuntimeException e) {
            try {
                refs.withLock(id, () -> {
                    abandon(id);
                    return null;
                });
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        marks.clear(id);
        return naive().diffSize(id, parent);
    }

    /** Made on first use: short commands (exists, get) should not pay for the archive code's set-up. */
    private synchronized NaiveDiff naive() {
        if (naive == null) naive = new NaiveDiff(this, BtrfsStorage.APPLY);
        return naive;
    }
}
