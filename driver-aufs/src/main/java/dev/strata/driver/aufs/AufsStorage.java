package dev.strata.driver.aufs;

import dev.strata.api.Capabilities;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.LayerStore;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerDiffs;
import dev.strata.archive.UpperDiff;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.kit.LayerDirectories;
import dev.strata.kit.LayerStorage;
import dev.strata.kit.NewLayer;
import dev.strata.kit.StagedApply;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.StatFs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Docker's aufs driver, storage half: each layer's own files in {@code diff/<id>}, its ancestors listed in
 * {@code layers/<id>}, and for a layer with parents an aufs union at {@code mnt/<id>} of its diff (rw) over its
 * ancestors' diffs (ro, whiteouts honoured). A base layer is never mounted: its root is its diff directory. The
 * contract around it is the driver kit's.
 *
 * <p>Because aufs keeps whiteouts as plain {@code .wh.} files, the diff directory already is the OCI diff against
 * the direct parent: diff, changes and diffSize read it without mounting ({@link UpperDiff}); against any other
 * parent they compare mounted trees, as moby does. An apply always goes into a copy of the diff directory
 * ({@code diff/.apply-<id>}), {@code .wh.} files kept, and is swapped in whole: the union it makes is the same
 * whichever parent the caller named.
 *
 * <p>A layer exists once {@code layers/<id>} is written, the last step of a create; a remove deletes it first, then
 * renames the diff directory to {@code diff/.removing-<id>} before deleting it. moby renames to {@code <id>-removing},
 * which is also a valid layer id: removing X could clobber layer X-removing's diff. Whatever a create or remove cut
 * short left is found by looking ({@link #cutShort}), moby's {@code -removing} directories of a Docker home included.
 */
public final class AufsStorage implements LayerStorage {
    public static final String NAME = "aufs";

    private final AufsLayout layout;
    private final AufsMounts mounts;
    private final LayerDirectories diffs; // diff/<id>, and an apply's diff/.apply-<id>

    /** Opens the storage on {@code home} without probing the kernel (the provider probes; tests need no aufs). */
    AufsStorage(Path home) {
        layout = new AufsLayout(home);
        layout.createRoots();
        mounts = new AufsMounts(layout.home.resolve(".scratch"));
        diffs = new LayerDirectories(layout.diffRoot);
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
        return new Capabilities(true, false);
    }

    // ---- layers ----------------------------------------------------------------------------------------------

    @Override
    public void create(NewLayer layer) {
        if (!layer.options().storageOpts().isEmpty()) {
            String key = layer.options().storageOpts().keySet().iterator().next();
            throw new InvalidOptionException(NAME, key, "--storage-opt is not supported for aufs");
        }
        List<String> ancestors = new ArrayList<>();
        if (layer.parent() != null) {
            ancestors.add(layer.parent());
            ancestors.addAll(layout.parents(layer.parent()));
        }
        AufsLayout.removeAll(layout.diff(layer.id())); // the kit made sure the id is free: this is what a lost create left
        AufsLayout.removeAll(layout.mnt(layer.id()));
        layout.createLayerDirs(layer.id());
        layout.writeParents(layer.id(), ancestors); // the commit point
    }

    /** Two directories and a small file: quick. A create removes what an earlier create of the id left first. */
    @Override
    public boolean createsQuickly() {
        return true;
    }

    /**
     * Unmounts (even if referenced: remove wins, as in moby) and deletes every trace of a layer: its layers file
     * first (from there on it is no layer), then its diff directory through {@code diff/.removing-<id>}, so that no
     * partial {@code diff/<id>} is ever left, and its mount point. Also what a create or remove of it cut short left.
     */
    @Override
    public void remove(String id) {
        mounts.unmount(layout.mnt(id), layout.diff(id), true);
        try {
            Files.deleteIfExists(layout.layersFile(id));
        } catch (IOException e) {
            throw new StorageException("remove", layout.layersFile(id), e.toString(), e);
        }
        diffs.retire(id);
        AufsLayout.removeAll(layout.mnt(id));
        diffs.sweep(id);
    }

    @Override
    public boolean exists(String id) {
        return PosixFiles.lexists(layout.layersFile(id));
    }

    @Override
    public String parent(String id) {
        List<String> parents = layout.parents(id);
        return parents.isEmpty() ? null : parents.getFirst();
    }

    @Override
    public List<String> layers() {
        return layout.registeredIds();
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
        return Map.of();
    }

    // ---- mounts ----------------------------------------------------------------------------------------------

    @Override
    public Path root(String id) {
        return layout.parents(id).isEmpty() ? layout.diff(id) : layout.mnt(id);
    }

    @Override
    public void mount(String id, String mountLabel) {
        List<String> parents = layout.parents(id);
        if (!parents.isEmpty()) mounts.mount(layout.diff(id), layout.parentDiffs(parents), layout.mnt(id), mountLabel);
    }

    @Override
    public void unmount(String id) {
        mounts.unmount(layout.mnt(id), layout.diff(id), false);
    }

    /**
     * Whether the layer's root is there to use. A base layer's root is its diff directory, always there; a child's
     * is the aufs union, there only when mounted (moby's FsChecker).
     */
    @Override
    public boolean isMounted(String id) {
        try {
            if (layout.registered(id) && layout.parents(id).isEmpty()) return true;
        } catch (dev.strata.api.LayerUnknownException gone) {
            // removed meanwhile: fall through to the mount table
        }
        return AufsMounts.isAufs(layout.mnt(id));
    }

    /** Unmounts every union under mnt/ (flushing pseudo-links), then anything else under home. */
    @Override
    public void cleanup() {
        RuntimeException first = null;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.mntRoot)) {
            for (Path m : ds) {
                try {
                    mounts.unmount(m, layout.diff(m.getFileName().toString()), true);
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                    else first.addSuppressed(e);
                }
            }
        } catch (IOException e) {
            throw new StorageException("cleanup", layout.mntRoot, e.toString(), e);
        }
        Mounts.unmountAllUnder(layout.home);
        if (first != null) throw first;
    }

    // ---- diffs -----------------------------------------------------------------------------------------------

    @Override
    public LayerDiffs diffs(LayerStore layers) {
        return new UpperDiff(layers, new UpperDiff.Uppers(layout::diff, this::parent, id -> layout.parentDiffs(layout.parents(id))),
                WhiteoutFormat.AUFS, true, AufsLayout.AUFS_META);
    }

    @Override
    public StagedApply stageApply(String id, String parent) {
        return diffs.stageApply(id, ApplyOptions.of(WhiteoutFormat.AUFS), null);
    }

    @Override
    public void discardStaged(String id) {
        diffs.discardApply(id);
    }

    /**
     * What a kill cut short, found by reading diff/, mnt/ and layers/: an apply's {@code diff/.apply-<id>}, a remove's
     * {@code diff/.removing-<id>}, and a diff or mount directory without a layers file (a create killed before its
     * commit point, a remove after it, moby's {@code <id>-removing}). The marks of those operations lived in the run
     * directory (a quick create has none), so after a reboot or a stale sweep only this finds them; the kit drops
     * each ({@link #discardStaged}, which puts back a diff dir a commit had set aside, then {@link #remove}).
     */
    @Override
    public java.util.Collection<String> cutShort() {
        java.util.Set<String> ids = diffs.cutShort();
        ids.addAll(layout.unregistered());
        return ids;
    }

    /** For tests: the layout this storage works on. */
    AufsLayout layout() {
        return layout;
    }
}
