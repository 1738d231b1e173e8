package dev.strata.driver.overlay;

import dev.strata.api.Capabilities;
import dev.strata.api.LayerStore;
import dev.strata.api.MountSpecs;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.api.IdTranslation;
import dev.strata.api.Support;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerDiffs;
import dev.strata.archive.UpperDiff;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.kit.DirectoryStaging;
import dev.strata.kit.LayerDirectories;
import dev.strata.kit.LayerIdMaps;
import dev.strata.kit.LayerStorage;
import dev.strata.kit.NewLayer;
import dev.strata.kit.RunDirectory;
import dev.strata.kit.StagedApply;
import dev.strata.nativeio.IdmapProbe;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overlay driver's storage: moby's overlay2 layout ({@link Layout}), layers made and removed by renames
 * ({@link LayerMaker}), mounts through mount(2) or the new mount API ({@link LayerMounts}, {@link OverlayMounter}),
 * native diffs from the upper dir ({@link UpperDiff}). The contract around it is the driver kit's.
 *
 * <p>Semantics that differ from, or add to, moby's overlay2:
 * <ul>
 *   <li>A base layer (no parent) is never mounted: get returns its {@code diff} dir, as moby does, but the
 *   reference is still counted, so references mean the same for every layer.</li>
 *   <li>A layer is made under a staging name and renamed into place, and removed by renaming it away first: a
 *   crash never leaves a half-made or half-removed layer that exists reports.</li>
 *   <li>An apply goes into a copy in {@code .apply-<id>} beside the layers (the layer's files hardlinked, nothing
 *   for a new layer) and is swapped with {@code diff} whole; through a mount of that copy when the diff cannot be
 *   native. A kill leaves it where the next open on a new run directory finds it.</li>
 *   <li>A layer with children cannot be removed; moby would leave the children with a dangling lower.</li>
 *   <li>Up to 500 lowers (the kernel's limit) instead of moby's 128.</li>
 * </ul>
 */
public final class OverlayStorage implements LayerStorage, MountSpecs {
    private final Layout layout;
    private final OverlayOptions options;
    private final Features features;
    private final OverlayMounter mounter;
    private final LayerMounts mounts;
    private final LayerMaker maker;
    private final LayerQuota quota;
    private final LayerDirectories dirs; // for an apply's .apply-<id> and the read that finds what was cut short
    private final WhiteoutFormat onDisk;
    private volatile UpperDiff diffs;
    private volatile LayerIdMaps idMaps;
    private volatile Support idMapSupport;

    private OverlayStorage(Layout layout, OverlayOptions options, Features features, LayerQuota quota) {
        this.layout = layout;
        this.options = options;
        this.features = features;
        this.quota = quota;
        this.mounter = new OverlayMounter(features.policy(), features.lowerdirPlus(), features.indexOff(), options.userxattr(),
                options.mount(), features.selinux());
        this.mounts = new LayerMounts(layout, mounter, options.mount().has("volatile"));
        this.maker = new LayerMaker(layout, quota, options);
        this.dirs = new LayerDirectories(layout.home());
        this.onDisk = options.userxattr() ? WhiteoutFormat.OVERLAY_USERXATTR : WhiteoutFormat.OVERLAY;
    }

    /** Opens (creating if needed) the storage on {@code home}: probes the kernel first. */
    static OverlayStorage open(Path home, OverlayOptions options) {
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
            if (!Files.isDirectory(layout.home())) LayerMaker.mkdir(layout.home(), "rwx--x---");
            if (!Files.isDirectory(layout.links())) LayerMaker.mkdir(layout.links(), "rwx------");
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        LayerQuota quota = new LayerQuota(layout.home(), features.backingFs(), options.defaultSize(), options.defaultInodes());
        return new OverlayStorage(layout, options, features, quota);
    }

    // ---------------------------------------------------------------------------------------------- layers

    @Override
    public void create(NewLayer layer) {
        maker.make(layer);
    }

    /** Directories, small files and a rename: quick. A create sweeps {@code .new-<id>} first. */
    @Override
    public boolean createsQuickly() {
        return true;
    }

    @Override
    public void remove(String id) {
        mounts.forget(id);
        maker.remove(id); // an apply's .apply-<id> is not the layer's: the kit dropped it first (discardStaged)
    }

    /**
     * What creates, removes and applies cut short left, by id: {@code .new-<id>} and {@code .apply-<id>} (one read of
     * the home, which holds every layer: the kit asks once per run directory), {@code .staging/new/<id>} (older
     * versions) and {@code .staging/removing/<id>}; {@link #discardStaged} drops an apply's, {@link #remove} the
     * rest. Not an id whose {@code <id>} dir is there, unless an apply of it left its {@code .apply-<id>}:
     * whatever that dir is, remove would delete it, while the kit drops an apply's leftovers (putting back a diff dir
     * a commit set aside) before it asks whether the layer exists.
     */
    @Override
    public List<String> cutShort() {
        List<String> ids = new ArrayList<>(dirs.cutShort());
        Path staging = layout.home().resolve(Layout.STAGING_DIR);
        ids.addAll(names(staging.resolve("new")));
        ids.addAll(names(staging.resolve("removing")));
        ids.removeIf(id -> PosixFiles.lexists(layout.dir(id)) && !PosixFiles.lexists(dirs.applyDir(id)));
        return ids;
    }

    private static List<String> names(Path dir) {
        List<String> out = new ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) out.add(p.getFileName().toString());
        } catch (java.nio.file.NoSuchFileException none) {
            return out;
        } catch (IOException e) {
            throw new StorageException("recover", dir.toString(), e.toString(), e);
        }
        return out;
    }

    /** A layer is there when its diff dir is (moby's test too, so layers dockerd made are seen). */
    @Override
    public boolean exists(String id) {
        return PosixFiles.lexists(layout.diff(id));
    }

    @Override
    public String parent(String id) {
        List<String> lowers = layout.lowerEntries(id);
        return lowers.isEmpty() ? null : layout.idOfLower(lowers.getFirst());
    }

    @Override
    public List<String> layers() {
        return layout.layerDirs();
    }

    @Override
    public Map<String, String> metadata(String id) {
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
        s.add(new StatusEntry("Reference Counts", RunDirectory.forHome(layout.home()).resolve("refs").toString()));
        return s;
    }

    private String maxDepthText() {
        if (mounter.deepStacks()) return OverlayMounter.KERNEL_MAX_LOWERS + " lower layers (the kernel's limit)";
        return mounter.maxLowersClassic(layout.links(), true) + " lower layers (one page of mount(2) options with this home)";
    }

    // ---------------------------------------------------------------------------------------------- mounts

    @Override
    public Path root(String id) {
        return mounts.root(id);
    }

    /**
     * The overlay {@link #mount} would make, as containerd's overlayfs snapshotter describes it: lowers through the
     * {@code l/} short links; a layer without lowers is a bind mount of its diff dir. The kit has checked the id.
     */
    @Override
    public List<MountSpec> mountSpecs(String id, boolean readOnly) {
        boolean ro = readOnly || layout.isCommitted(id);
        List<Path> lowers = new ArrayList<>();
        for (String e : ro ? layout.lowerEntriesForChild(id, maker.linkOf(id)) : layout.lowerEntries(id)) lowers.add(layout.linkPath(e));
        if (lowers.size() == (ro ? 1 : 0)) {
            return List.of(new MountSpec("bind", layout.diff(id).toString(), List.of(ro ? "ro" : "rw", "rbind")));
        }
        return List.of(new MountSpec("overlay", "overlay", mounter.specOptions(lowers, ro ? null : layout.diff(id), ro ? null : layout.work(id))));
    }

    @Override
    public void mount(String id, String mountLabel) {
        mounts.mount(id, mountLabel);
    }

    @Override
    public void unmount(String id) {
        mounts.unmount(id);
    }

    /** A base layer is its diff dir, never mounted. */
    @Override
    public boolean needsMount(String id) {
        return mounts.hasLowers(id);
    }

    @Override
    public boolean isMounted(String id) {
        return mounts.isMountedOrBase(id);
    }

    @Override
    public Path mountUnlessMounted(String id, String mountLabel) {
        return mounts.mountUnlessMounted(id, mountLabel);
    }

    /** umount2 tells whether something was mounted: one call, where asking first takes two more. */
    @Override
    public void unmountIfMounted(String id) {
        mounts.unmount(id);
    }

    // ---------------------------------------------------------------------------------------------- id maps

    /** Idmapped lowers, where this kernel stacks an overlay on idmapped trees of the home's filesystem (probed once). */
    @Override
    public Support idMapSupport() {
        Support s = idMapSupport;
        if (s == null) idMapSupport = s = idmappedLowers(layout.home());
        return s;
    }

    /** Every mapped layer: its upper holds host ids, and each lower stored another way is an idmapped tree. */
    @Override
    public String idMapMethod(String id) {
        return "idmapped lowers";
    }

    /** The answer for {@code home}: "idmapped lowers (...)", or why not. Writes nothing. */
    static Support idmappedLowers(Path home) {
        Support s = IdmapProbe.overlayOnIdmappedLowers(home);
        return s.supported() ? Support.yes("idmapped lowers (" + s.reason() + ")") : s;
    }

    @Override
    public void attach(LayerIdMaps idMaps) {
        this.idMaps = idMaps;
        mounts.attach(idMaps);
    }

    /** A staged apply writes the tar's owners as the layer stores them: host ids for a layer made with maps. */
    private ApplyOptions withIds(String id, ApplyOptions options) {
        return idMaps == null ? options : options.withIds(IdTranslation.toHost(idMaps.of(id)));
    }

    // ---------------------------------------------------------------------------------------------- diffs

    @Override
    public LayerDiffs diffs(LayerStore layers) {
        UpperDiff d = new UpperDiff(layers, new UpperDiff.Uppers(layout::diff, this::parent, id -> {
            List<String> entries = layout.lowerEntries(id);
            List<Path> out = new ArrayList<>(entries.size());
            for (String e : entries) out.add(layout.resolveLower(e));
            return out;
        }), onDisk, features.nativeDiff(), java.util.Set.of());
        diffs = d;
        return d;
    }

    /**
     * Natively (the parent is the layer's own, or a base layer): the tar goes into a copy of the diff dir with
     * overlay whiteouts, without mounting. Otherwise through an overlay mount of that copy over the layer's lowers,
     * with plain deletions, as moby's naive apply goes through the mounted layer; its work and mount dirs are in the
     * apply's {@code .apply-<id>} too, so that a kill leaves nothing the next open cannot find.
     */
    @Override
    public StagedApply stageApply(String id, String parent) {
        Path diff = layout.diff(id);
        boolean base = !Files.exists(layout.dir(id).resolve(Layout.LOWER));
        if (diffs.isNative(id, parent)) return dirs.stageApply(id, diff, withIds(id, new ApplyOptions(onDisk, Kernel.isRoot())), null);
        if (base) return dirs.stageApply(id, diff, withIds(id, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE)), null);
        DirectoryStaging upper = dirs.stageApply(id, diff, withIds(id, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE)), null);
        Path work = dirs.applyDir(id).resolve(Layout.WORK), merged = dirs.applyDir(id).resolve(Layout.MERGED);
        try {
            LayerMaker.mkdir(work, "rwx------");
            LayerMaker.mkdir(merged, "rwx------");
            mounts.mountStaged(id, upper.root(), work, merged);
        } catch (IOException | RuntimeException e) {
            discardStaged(id);
            if (e instanceof RuntimeException r) throw r;
            throw new StorageException("applyDiff", id, e.toString(), e);
        }
        return new StagedApply() {
            @Override
            public Path root() {
                return merged;
            }

            @Override
            public ApplyOptions options() {
                return upper.options();
            }

            @Override
            public void commit() {
                Mounts.unmount(merged, 0); // flushes the copy's upper before it is swapped in
                upper.commit();
            }

            @Override
            public void discard() {
                discardStaged(id);
            }
        };
    }

    /** Unmounts the copy if an apply through a mount left it mounted (a kill), then drops {@code .apply-<id>}. */
    @Override
    public void discardStaged(String id) {
        Mounts.unmountIfMounted(dirs.applyDir(id).resolve(Layout.MERGED), Mounts.MNT_DETACH);
        dirs.discardApply(id, layout.diff(id));
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
        return new Capabilities(features.nativeDiff(), quota.supported());
    }

    Features features() {
        return features;
    }

    Layout layout() {
        return layout;
    }
}
