package dev.strata.driver.overlay;

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
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.MountRoots;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overlay driver: moby's overlay2 layout ({@link Layout}), mounts through the new mount API where the kernel
 * has {@code lowerdir+} ({@link OverlayMounter}), native diffs from the upper dir ({@link OverlayDiff}).
 *
 * <p>Semantics that differ from, or add to, moby's overlay2:
 * <ul>
 *   <li>A base layer (no parent) is never mounted: {@link #get} returns its {@code diff} dir, as moby does, but
 *   the reference is still counted, so {@link #references} means the same for every layer.</li>
 *   <li>A layer is made under a hidden staging name and renamed into place, and removed by renaming it away
 *   first: a crash never leaves a half-made or half-removed layer that {@link #exists} reports.</li>
 *   <li>A layer with children cannot be removed; moby would leave the children with a dangling lower.</li>
 *   <li>Up to 500 lowers (the kernel's limit) instead of moby's 128.</li>
 * </ul>
 */
public final class OverlayDriver implements StorageDriver {
    private static final String REFS_DIR = ".refs", INCOMPLETE_DIR = ".incomplete";

    private final Layout layout;
    private final OverlayOptions options;
    private final Features features;
    private final OverlayMounter mounter;
    private final RefCounts refs;
    private final IncompleteLayers incomplete;
    private final LayerQuota quota;
    private final OverlayDiff diffs;
    private final boolean volatileMounts;

    private OverlayDriver(Layout layout, OverlayOptions options, Features features, LayerQuota quota) {
        this.layout = layout;
        this.options = options;
        this.features = features;
        this.mounter = new OverlayMounter(features.policy(), features.lowerdirPlus(), features.indexOff(), options.userxattr(),
                options.mount(), features.selinux());
        this.refs = new RefCounts(layout.home().resolve(REFS_DIR), this::isMountedOrBase);
        this.incomplete = new IncompleteLayers(layout.home().resolve(INCOMPLETE_DIR));
        this.quota = quota;
        this.diffs = new OverlayDiff(this, layout, features.nativeDiff(), options.userxattr(), incomplete);
        this.volatileMounts = options.mount().has("volatile");
    }

    /** Opens (creating if needed) the driver on {@code home}: probes the kernel, then recovers from a crash. */
    static OverlayDriver open(Path home, OverlayOptions options) {
        Layout layout = new Layout(home);
        // Probe before making anything: in the home if it exists, else in its parent (as moby's Init does).
        Path testDir = layout.home();
        try {
            if (!Files.isDirectory(testDir)) {
                Files.createDirectories(layout.home().getParent());
                testDir = layout.home().getParent();
            }
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        OverlayProbe.removeLeftoverProbes(testDir);
        Features features = OverlayProbe.probe(testDir, options);
        try {
            if (!Files.isDirectory(layout.home())) mkdir(layout.home(), "rwx--x---");
            if (!Files.isDirectory(layout.links())) mkdir(layout.links(), "rwx------");
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        LayerQuota quota = new LayerQuota(layout.home(), features.backingFs(), options.defaultSize(), options.defaultInodes());
        OverlayDriver d = new OverlayDriver(layout, options, features, quota);
        d.recover();
        return d;
    }

    private static void mkdir(Path dir, String perms) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms)));
        } catch (FileAlreadyExistsException ignored) {
            // made by a concurrent open
        }
    }

    // ---------------------------------------------------------------------------------------------- layers

    @Override
    public void create(String id, String parent, CreateOptions opts) {
        LayerIds.check("create", id);
        String p = LayerIds.checkParent("create", parent);
        StorageOpts limits = StorageOpts.parse("create", id, opts, false);
        makeLayer("create", id, p, limits);
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions opts) {
        LayerIds.check("createReadWrite", id);
        String p = LayerIds.checkParent("createReadWrite", parent);
        StorageOpts limits = StorageOpts.parse("createReadWrite", id, opts, true)
                .withDefaults(options.defaultSize(), options.defaultInodes());
        if (limits.any()) quota.require("createReadWrite", id);
        makeLayer("createReadWrite", id, p, limits);
    }

    private void makeLayer(String op, String id, String parent, StorageOpts limits) {
        if (Files.exists(layout.dir(id), java.nio.file.LinkOption.NOFOLLOW_LINKS)) throw new LayerExistsException(op, id);
        if (parent == null) {
            build(op, id, null, limits);
        } else {
            // Under the parent's lock: remove(parent) cannot run between the check and the child's rename.
            refs.withLock(parent, () -> {
                if (!exists(parent)) throw new ParentUnknownException(op, id, parent);
                build(op, id, parent, limits);
                return null;
            });
        }
    }

    private void build(String op, String id, String parent, StorageOpts limits) {
        List<String> lowers = parent == null ? List.of() : layout.lowerEntriesForChild(parent);
        if (lowers.size() > OverlayMounter.KERNEL_MAX_LOWERS) {
            throw new StorageException(op, id, "max depth exceeded: the layer would have " + lowers.size()
                    + " lower layers, and overlay mounts at most " + OverlayMounter.KERNEL_MAX_LOWERS);
        }
        Path staging = layout.home().resolve(Layout.STAGING_PREFIX + id + "-" + Layout.suffix());
        Path link = null;
        try {
            mkdir(staging, "rwx--x---");
            if (limits.any()) quota.set(staging, limits.size(), limits.inodes());
            mkdir(staging.resolve(Layout.DIFF), "rwxr-xr-x");
            String lid = null;
            for (int attempt = 0; lid == null; attempt++) {
                String candidate = Layout.newLinkId();
                try {
                    Files.createSymbolicLink(layout.links().resolve(candidate), Path.of("..", id, Layout.DIFF));
                    lid = candidate;
                    link = layout.links().resolve(candidate);
                } catch (FileAlreadyExistsException e) {
                    if (attempt > 8) throw e;
                }
            }
            Files.write(staging.resolve(Layout.LINK), lid.getBytes(StandardCharsets.US_ASCII));
            if (parent != null) {
                mkdir(staging.resolve(Layout.WORK), "rwx------");
                Files.write(staging.resolve(Layout.LOWER), String.join(":", lowers).getBytes(StandardCharsets.US_ASCII));
                Path committed = layout.dir(parent).resolve(Layout.COMMITTED);
                if (!Files.exists(committed)) {
                    try {
                        Files.createFile(committed, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    } catch (FileAlreadyExistsException ignored) {
                        // a concurrent child committed it
                    }
                }
            }
            try {
                PosixFiles.renameat2(null, staging.toString(), null, layout.dir(id).toString(), PosixFiles.RENAME_NOREPLACE);
            } catch (SyscallException e) {
                if (e.is(Errno.EEXIST) || e.is(Errno.ENOTEMPTY)) throw new LayerExistsException(op, id);
                throw e;
            }
            if (limits.any()) quota.moved(staging, layout.dir(id));
        } catch (IOException | RuntimeException e) {
            if (link != null) deleteQuietly(link);
            if (limits.any()) quota.forget(staging);
            Trees.deleteQuietly(staging);
            if (e instanceof RuntimeException r) throw r;
            throw new StorageException(op, id, e.toString(), e);
        }
    }

    @Override
    public void remove(String id) {
        LayerIds.check("remove", id);
        refs.withLock(id, () -> {
            Path dir = layout.dir(id);
            if (!Files.isDirectory(layout.diff(id), java.nio.file.LinkOption.NOFOLLOW_LINKS)) throw new LayerUnknownException("remove", id);
            if (layout.isCommitted(id)) {
                List<String> children = children(id);
                if (!children.isEmpty()) {
                    throw new LayerBusyException("remove", id, "layer has " + children.size() + " child layer(s) ("
                            + String.join(", ", children.subList(0, Math.min(5, children.size())))
                            + (children.size() > 5 ? ", ..." : "") + "); remove them first");
                }
            }
            unmount(id);
            String lid = readLinkIdQuietly(id);
            Path grave = layout.home().resolve(Layout.REMOVING_PREFIX + id + "-" + Layout.suffix());
            PosixFiles.renameat2(null, dir.toString(), null, grave.toString(), 0);
            if (lid != null) deleteQuietly(layout.links().resolve(lid));
            refs.forget(id);
            incomplete.clear(id);
            quota.forget(dir);
            Trees.delete(grave);
            return null;
        });
    }

    /** Ids of layers whose nearest lower is {@code id}. */
    private List<String> children(String id) {
        String entry = Layout.LINK_DIR + "/" + layout.linkId(id);
        List<String> out = new ArrayList<>();
        for (String other : layerDirs()) {
            Path lower = layout.dir(other).resolve(Layout.LOWER);
            try {
                String s = Files.readString(lower, StandardCharsets.US_ASCII);
                if (s.equals(entry) || s.startsWith(entry + ":")) out.add(other);
            } catch (NoSuchFileException e) {
                // a base layer
            } catch (IOException e) {
                throw new StorageException("remove", lower.toString(), e.toString(), e);
            }
        }
        return out;
    }

    @Override
    public Path get(String id, String mountLabel) {
        LayerIds.check("get", id);
        requireLayer("get", id);
        List<String> lowers = layout.lowerEntries(id);
        if (lowers.isEmpty()) {
            refs.acquire(id, () -> { });
            return layout.diff(id);
        }
        refs.acquire(id, () -> mount(id, lowers, mountLabel));
        return layout.merged(id);
    }

    private void mount(String id, List<String> lowerEntries, String mountLabel) {
        Path merged = layout.merged(id);
        try {
            mkdir(merged, "rwx------");
        } catch (IOException e) {
            throw new StorageException("get", merged.toString(), e.toString(), e);
        }
        boolean readOnly = layout.isCommitted(id);
        List<Path> lowers = new ArrayList<>(lowerEntries.size() + 1);
        if (readOnly) lowers.add(layout.diff(id));
        for (String e : lowerEntries) lowers.add(layout.linkPath(e));
        try {
            if (!readOnly && volatileMounts) clearVolatileMark(id);
            mounter.mount(merged, lowers, readOnly ? null : layout.diff(id), readOnly ? null : layout.work(id), mountLabel);
        } catch (RuntimeException e) {
            deleteQuietly(merged);
            throw e instanceof StorageException ? e : new StorageException("get", id, e.toString(), e);
        }
    }

    /**
     * A volatile mount leaves {@code work/work/incompat/volatile}, and the kernel refuses to mount that work dir
     * again while it is there. The layer was unmounted cleanly (or it is a scratch layer whose content may be lost
     * by design), so the mark is removed, as containers/storage does.
     */
    private void clearVolatileMark(String id) {
        Path mark = layout.work(id).resolve("work/incompat/volatile");
        if (Files.isDirectory(mark, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Trees.delete(mark);
    }

    @Override
    public void put(String id) {
        LayerIds.check("put", id);
        if (!Files.isDirectory(layout.dir(id), java.nio.file.LinkOption.NOFOLLOW_LINKS)) throw new LayerUnknownException("put", id);
        refs.release(id, () -> unmount(id));
    }

    /** Unmounts the layer's merged dir if something is mounted there, and removes the mount point (as moby). */
    private void unmount(String id) {
        Path merged = layout.merged(id);
        Mounts.unmountIfMounted(merged, Mounts.MNT_DETACH);
        // Removing the mount point also drops copies of the mount in other mount namespaces (moby's reason).
        try {
            PosixFiles.unlinkat(null, merged.toString(), PosixFiles.AT_REMOVEDIR);
        } catch (SyscallException e) {
            if (!e.is(Errno.ENOENT) && !e.is(Errno.ENOTEMPTY) && !e.is(Errno.EBUSY)) throw e;
        }
    }

    /**
     * The RefCounts predicate: a layer counts as mounted when its merged dir is a mount root; a base layer (no
     * lower file) is always "mounted", since its diff dir is what get returns. Two system calls, no exceptions.
     */
    private boolean isMountedOrBase(String id) {
        if (MountRoots.isMountRoot(layout.merged(id))) return true;
        return !Files.exists(layout.dir(id).resolve(Layout.LOWER));
    }

    @Override
    public boolean exists(String id) {
        LayerIds.check("exists", id);
        return Files.isDirectory(layout.diff(id), java.nio.file.LinkOption.NOFOLLOW_LINKS) && !incomplete.isIncomplete(id);
    }

    void requireLayer(String op, String id) {
        if (!exists(id)) throw new LayerUnknownException(op, id);
    }

    @Override
    public int references(String id) {
        LayerIds.check("references", id);
        return refs.count(id);
    }

    @Override
    public String parent(String id) {
        LayerIds.check("parent", id);
        requireLayer("parent", id);
        List<String> lowers = layout.lowerEntries(id);
        return lowers.isEmpty() ? null : layout.idOfLower(lowers.getFirst());
    }

    @Override
    public List<String> layers() {
        List<String> out = new ArrayList<>();
        for (String id : layerDirs()) if (!incomplete.isIncomplete(id)) out.add(id);
        return out;
    }

    /** Every directory under home that looks like a layer (has a diff dir), complete or not. */
    private List<String> layerDirs() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.home())) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || name.equals(Layout.LINK_DIR)) continue;
                if (Files.isDirectory(p.resolve(Layout.DIFF), java.nio.file.LinkOption.NOFOLLOW_LINKS)) out.add(name);
            }
        } catch (IOException e) {
            throw new StorageException("layers", layout.home().toString(), e.toString(), e);
        }
        return out;
    }

    @Override
    public List<StatusEntry> status() {
        List<StatusEntry> s = new ArrayList<>();
        s.add(new StatusEntry("Backing Filesystem", features.backingFs()));
        s.add(new StatusEntry("Supports d_type", Boolean.toString(features.dType())));
        s.add(new StatusEntry("Native Overlay Diff", Boolean.toString(features.nativeDiff())));
        if (!features.nativeDiff()) s.add(new StatusEntry("Naive Diff Reason", features.naiveReason()));
        s.add(new StatusEntry("userxattr", Boolean.toString(options.userxattr())));
        s.add(new StatusEntry("Mount API", mounter.describe()));
        s.add(new StatusEntry("Max Stack Depth", maxDepthText()));
        String extra = options.mount().toString();
        if (!extra.isEmpty()) s.add(new StatusEntry("Mount Options", extra));
        s.add(new StatusEntry("Project Quota", quota.describe(options.defaultSize(), options.defaultInodes())));
        return s;
    }

    private String maxDepthText() {
        if (mounter.deepStacks()) {
            return OverlayMounter.KERNEL_MAX_LOWERS + " lower layers (the kernel's limit)";
        }
        int n = mounter.maxLowersClassic(layout.links(), true);
        return n + " lower layers (one page of mount(2) options with this home)";
    }

    @Override
    public Map<String, String> metadata(String id) {
        LayerIds.check("metadata", id);
        requireLayer("metadata", id);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("WorkDir", layout.work(id).toString());
        m.put("MergedDir", layout.merged(id).toString());
        m.put("UpperDir", layout.diff(id).toString());
        List<String> lowers = layout.lowerEntries(id);
        if (!lowers.isEmpty()) {
            List<String> abs = new ArrayList<>(lowers.size());
            for (String e : lowers) abs.add(layout.resolveLower(e).toString());
            m.put("LowerDir", String.join(":", abs));
        }
        return m;
    }

    /** Unmounts every layer this driver mounted under its home and resets every reference count. */
    @Override
    public void cleanup() {
        for (MountInfo mi : MountInfo.under(layout.home())) {
            Path mp = Path.of(mi.mountPoint());
            if (!mp.getFileName().toString().equals(Layout.MERGED)) continue;
            String id = mp.getParent().getFileName().toString();
            refs.withLock(id, () -> {
                unmount(id);
                return null;
            });
        }
        Path refsDir = layout.home().resolve(REFS_DIR);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(refsDir)) {
            for (Path p : ds) {
                String id = p.getFileName().toString();
                if (id.startsWith(".")) continue;
                refs.withLock(id, () -> {
                    refs.forget(id);
                    return null;
                });
            }
        } catch (NoSuchFileException ignored) {
            // no counts yet
        } catch (IOException e) {
            throw new StorageException("cleanup", refsDir.toString(), e.toString(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------- diffs

    @Override
    public InputStream diff(String id, String parent) {
        return diffs.diff(id, parent);
    }

    @Override
    public List<Change> changes(String id, String parent) {
        return diffs.changes(id, parent);
    }

    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        return diffs.applyDiff(id, parent, diff);
    }

    @Override
    public long diffSize(String id, String parent) {
        return diffs.diffSize(id, parent);
    }

    // ---------------------------------------------------------------------------------------------- driver

    @Override
    public String name() {
        return OverlayProvider.NAME;
    }

    @Override
    public Path home() {
        return layout.home();
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, features.nativeDiff(), quota.supported());
    }

    Features features() {
        return features;
    }

    /**
     * After a crash: removes layers whose create or apply did not finish, staging and half-removed directories,
     * and the short links they left.
     */
    private void recover() {
        boolean leftovers = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.home(), ".{staging,removing}-*")) {
            for (Path p : ds) {
                leftovers = true;
                Mounts.unmountAllUnder(p);
                Trees.delete(p);
            }
        } catch (IOException e) {
            throw new StorageException("open", layout.home().toString(), e.toString(), e);
        }
        for (String id : incomplete.list()) {
            if (Files.isDirectory(layout.dir(id))) {
                try {
                    forceRemove(id);
                } catch (LayerBusyException e) {
                    continue; // has children: keep it (and its mark) rather than break them
                }
            }
            incomplete.clear(id);
        }
        if (leftovers) removeDanglingLinks();
    }

    private void forceRemove(String id) {
        remove(id);
    }

    private void removeDanglingLinks() {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.links())) {
            for (Path l : ds) {
                if (!Files.exists(l)) deleteQuietly(l);
            }
        } catch (IOException e) {
            throw new StorageException("open", layout.links().toString(), e.toString(), e);
        }
    }

    private String readLinkIdQuietly(String id) {
        try {
            return layout.linkId(id);
        } catch (StorageException e) {
            return null;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort; the next open removes what is left
        }
    }
}
