package dev.strata.driver.aufs;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.InvalidOptionException;
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
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.NaiveDiff;
import dev.strata.archive.TreeChanges;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.StatFs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Docker's aufs driver: each layer's own files in {@code diff/<id>}, its ancestors listed in {@code layers/<id>},
 * and for a layer with parents an aufs union at {@code mnt/<id>} of its diff (rw) over its ancestors' diffs (ro,
 * whiteouts honoured). A base layer is never mounted: {@link #get} returns its diff directory.
 *
 * <p>Because aufs keeps whiteouts as plain {@code .wh.} files, the diff directory already is the OCI diff against
 * the direct parent: diff, changes and apply work on it without mounting. Against any other parent the
 * {@link NaiveDiff} compares mounted trees, as moby does.
 *
 * <p>Crash safety: a layer being created, applied or removed is marked in {@code .incomplete}; it is not
 * {@link #exists reported} meanwhile, and a mark found at open is finished by removing that layer. Leftover
 * {@code *-removing} directories of an interrupted remove are deleted at open, as moby does.
 */
public final class AufsDriver implements StorageDriver {
    public static final String NAME = "aufs";

    private final AufsLayout layout;
    private final AufsMounts mounts;
    private final RefCounts refs;
    private final IncompleteLayers incomplete;
    private final MetadataLock lock;
    private final NaiveDiff naive;

    /** Opens the driver on {@code home} without probing the kernel (the provider probes; tests need no aufs). */
    AufsDriver(Path home) {
        layout = new AufsLayout(home);
        layout.createRoots();
        incomplete = new IncompleteLayers(layout.home.resolve(".incomplete"));
        refs = new RefCounts(RunDirectory.forHome(layout.home).resolve("refs"), this::rootReady);
        lock = new MetadataLock(layout.home.resolve(".lock"));
        mounts = new AufsMounts(layout.home.resolve(".scratch"));
        // Through a mount, a deletion is made by aufs itself: the naive path deletes in place.
        naive = new NaiveDiff(this, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        lock.run(() -> {
            layout.removeLeftovers();
            for (String id : incomplete.abandoned()) destroy(id);
        });
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Path home() {
        return layout.home;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, true, false);
    }

    // ---- layers ----------------------------------------------------------------------------------------------

    @Override
    public void create(String id, String parent, CreateOptions options) {
        String op = "create";
        LayerIds.check(op, id);
        String p = LayerIds.checkParent(op, parent);
        if (options != null && !options.storageOpts().isEmpty()) {
            String key = options.storageOpts().keySet().iterator().next();
            throw new InvalidOptionException(NAME, key, "--storage-opt is not supported for aufs");
        }
        lock.run(() -> {
            if (layout.registered(id) || Files.exists(layout.diff(id), LinkOption.NOFOLLOW_LINKS)) {
                throw new LayerExistsException(op, id);
            }
            List<String> ancestors = new ArrayList<>();
            if (p != null) {
                if (!exists(p)) throw new ParentUnknownException(op, id, p);
                ancestors.add(p);
                ancestors.addAll(layout.parents(p));
            }
            incomplete.mark(id);
            try {
                layout.createLayerDirs(id);
                layout.writeParents(id, ancestors);
            } catch (RuntimeException e) {
                try {
                    destroy(id);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            incomplete.clear(id);
        });
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions options) {
        create(id, parent, options);
    }

    @Override
    public void remove(String id) {
        LayerIds.check("remove", id);
        lock.run(() -> {
            if (!layout.registered(id) && !incomplete.isIncomplete(id)
                    && !Files.exists(layout.diff(id), LinkOption.NOFOLLOW_LINKS)) {
                throw new LayerUnknownException("remove", id);
            }
            List<String> dependents = layout.dependents(id);
            if (!dependents.isEmpty()) {
                throw new LayerBusyException("remove", id, "layers are stacked on it: " + String.join(", ", dependents));
            }
            incomplete.mark(id); // not reported from here on; a crash is finished at the next open
            destroy(id);
        });
    }

    /** Unmounts (even if referenced: remove wins, as in moby) and deletes every trace of a layer, then its mark. */
    private void destroy(String id) {
        refs.withLock(id, () -> {
            mounts.unmount(layout.mnt(id), layout.diff(id), true);
            refs.forget(id);
            try {
                Files.deleteIfExists(layout.layersFile(id));
            } catch (IOException e) {
                throw new StorageException("remove", layout.layersFile(id), e.toString(), e);
            }
            AufsLayout.atomicRemove(layout.diff(id));
            AufsLayout.atomicRemove(layout.mnt(id));
            return null;
        });
        incomplete.clear(id);
    }

    @Override
    public Path get(String id, String mountLabel) {
        requireRegistered("get", id);
        List<String> parents = layout.parents(id);
        if (parents.isEmpty()) {
            refs.acquire(id, () -> { });
            return layout.diff(id);
        }
        Path target = layout.mnt(id);
        refs.acquire(id, () -> mounts.mount(layout.diff(id), layout.parentDiffs(parents), target, mountLabel));
        return target;
    }

    @Override
    public void put(String id) {
        requireRegistered("put", id);
        refs.release(id, () -> mounts.unmount(layout.mnt(id), layout.diff(id), false));
    }

    /**
     * The reference-count predicate: whether the layer's root is there to use. A base layer's root is its diff
     * directory, always there; a child's is the aufs union, there only when mounted (moby's FsChecker).
     */
    private boolean rootReady(String id) {
        try {
            if (layout.registered(id) && layout.parents(id).isEmpty()) return true;
        } catch (LayerUnknownException gone) {
            // removed meanwhile: fall through to the mount table
        }
        return AufsMounts.isAufs(layout.mnt(id));
    }

    @Override
    public boolean exists(String id) {
        LayerIds.check("exists", id);
        return layout.registered(id) && !incomplete.isIncomplete(id);
    }

    @Override
    public int references(String id) {
        LayerIds.check("references", id);
        return refs.count(id);
    }

    @Override
    public String parent(String id) {
        requireRegistered("parent", id);
        List<String> parents = layout.parents(id);
        return parents.isEmpty() ? null : parents.getFirst();
    }

    @Override
    public List<String> layers() {
        List<String> ids = new ArrayList<>(layout.registeredIds());
        ids.removeIf(incomplete::isIncomplete);
        return ids;
    }

    /** moby's pairs: Root Dir, Backing Filesystem, Dirs (files in layers/), Dirperm1 Supported. */
    @Override
    public List<StatusEntry> status() {
        return List.of(
                new StatusEntry("Root Dir", layout.home.toString()),
                new StatusEntry("Backing Filesystem", StatFs.ofNearest(layout.home).typeName()),
                new StatusEntry("Dirs", Integer.toString(layout.registeredIds().size())),
                new StatusEntry("Dirperm1 Supported", Boolean.toString(mounts.dirperm1())));
    }

    /** moby's aufs has no metadata. */
    @Override
    public Map<String, String> metadata(String id) {
        requireRegistered("metadata", id);
        return Map.of();
    }

    /** Unmounts every union under mnt/ (flushing pseudo-links), then anything else under home; counts restart. */
    @Override
    public void cleanup() {
        RuntimeException first = null;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.mntRoot)) {
            for (Path m : ds) {
                String id = m.getFileName().toString();
                try {
                    refs.withLock(id, () -> {
                        mounts.unmount(m, layout.diff(id), true);
                        refs.forget(id);
                        return null;
                    });
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                    else first.addSuppressed(e);
                }
            }
        } catch (IOException e) {
            throw new StorageException("cleanup", layout.mntRoot, e.toString(), e);
        }
        Mounts.unmountAllUnder(layout.home);
        for (String id : layout.registeredIds()) refs.withLock(id, () -> {
            refs.forget(id);
            return null;
        });
        if (first != null) throw first;
    }

    // ---- diffs -----------------------------------------------------------------------------------------------

    @Override
    public InputStream diff(String id, String parent) {
        List<String> parents = parentsFor("diff", id);
        String p = LayerIds.checkParent("diff", parent);
        if (!isDirectParent(parents, p)) return naive.diff(id, p);
        Path upper = layout.diff(id);
        List<Path> lowers = layout.parentDiffs(parents);
        return LayerArchive.upper(upper, WhiteoutFormat.AUFS, lowers, null);
    }

    @Override
    public List<Change> changes(String id, String parent) {
        List<String> parents = parentsFor("changes", id);
        String p = LayerIds.checkParent("changes", parent);
        if (!isDirectParent(parents, p)) return naive.changes(id, p);
        List<Change> out = new ArrayList<>(TreeChanges.ofUpper(layout.diff(id), WhiteoutFormat.AUFS, layout.parentDiffs(parents)));
        out.sort(null);
        return out;
    }

    /**
     * Against the direct parent the tar goes into the diff directory as it is, {@code .wh.} files kept (moby's
     * UntarUncompressed); returns the diff directory's size. An apply that fails part way leaves the layer marked
     * incomplete: it is no longer reported, and the caller removes it.
     */
    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        List<String> parents = parentsFor("applyDiff", id);
        String p = LayerIds.checkParent("applyDiff", parent);
        if (!isDirectParent(parents, p)) return naive.applyDiff(id, p, diff);
        incomplete.mark(id);
        LayerArchive.apply(layout.diff(id), diff, ApplyOptions.of(WhiteoutFormat.AUFS));
        incomplete.clear(id);
        return layout.size(id);
    }

    @Override
    public long diffSize(String id, String parent) {
        List<String> parents = parentsFor("diffSize", id);
        String p = LayerIds.checkParent("diffSize", parent);
        if (!isDirectParent(parents, p)) return naive.diffSize(id, p);
        return layout.size(id);
    }

    /**
     * Whether {@code parent} is the layer's direct parent (or both are none), so that the diff directory alone is
     * the diff. Stricter than moby's isParent, which also says yes for a base layer diffed against any parent.
     */
    static boolean isDirectParent(List<String> parents, String parent) {
        return Objects.equals(parents.isEmpty() ? null : parents.getFirst(), parent);
    }

    private List<String> parentsFor(String op, String id) {
        requireRegistered(op, id);
        return layout.parents(id);
    }

    private void requireRegistered(String op, String id) {
        LayerIds.check(op, id);
        if (!layout.registered(id)) throw new LayerUnknownException(op, id);
    }

    /** For tests: the layout this driver works on. */
    AufsLayout layout() {
        return layout;
    }
}
