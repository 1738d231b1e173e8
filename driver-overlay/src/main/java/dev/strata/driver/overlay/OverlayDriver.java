package dev.strata.driver.overlay;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.MountSpecs;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overlay driver: moby's overlay2 layout ({@link Layout}), layers made and removed crash-safely
 * ({@link LayerMaker}), reference-counted mounts ({@link LayerMounts}) through mount(2) or the new mount API
 * ({@link OverlayMounter}), native diffs from the upper dir ({@link OverlayDiff}).
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
public final class OverlayDriver implements StorageDriver, MountSpecs {
    private final Layout layout;
    private final OverlayOptions options;
    private final Features features;
    private final OverlayMounter mounter;
    private final LayerMounts mounts;
    private final LayerMaker maker;
    private final IncompleteLayers incomplete;
    private final LayerQuota quota;
    private final OverlayDiff diffs;

    private OverlayDriver(Layout layout, OverlayOptions options, Features features, LayerQuota quota) {
        this.layout = layout;
        this.options = options;
        this.features = features;
        this.quota = quota;
        this.mounter = new OverlayMounter(features.policy(), features.lowerdirPlus(), features.indexOff(), options.userxattr(),
                options.mount(), features.selinux());
        this.mounts = new LayerMounts(layout, mounter, options.mount().has("volatile"));
        this.incomplete = new IncompleteLayers(layout.home().resolve(Layout.INCOMPLETE_DIR));
        this.maker = new LayerMaker(layout, mounts, incomplete, quota);
        this.diffs = new OverlayDiff(this, layout, features.nativeDiff(), options.userxattr(), incomplete);
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
            if (!Files.isDirectory(layout.home())) LayerMaker.mkdir(layout.home(), "rwx--x---");
            if (!Files.isDirectory(layout.links())) LayerMaker.mkdir(layout.links(), "rwx------");
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        LayerQuota quota = new LayerQuota(layout.home(), features.backingFs(), options.defaultSize(), options.defaultInodes());
        OverlayDriver d = new OverlayDriver(layout, options, features, quota);
        d.maker.recover();
        return d;
    }

    // ---------------------------------------------------------------------------------------------- layers

    @Override
    public void create(String id, String parent, CreateOptions opts) {
        LayerIds.check("create", id);
        String p = LayerIds.checkParent("create", parent);
        maker.make("create", id, p, StorageOpts.parse("create", id, opts, false), this::exists);
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions opts) {
        LayerIds.check("createReadWrite", id);
        String p = LayerIds.checkParent("createReadWrite", parent);
        StorageOpts limits = StorageOpts.parse("createReadWrite", id, opts, true)
                .withDefaults(options.defaultSize(), options.defaultInodes());
        if (limits.any()) quota.require("createReadWrite", id);
        maker.make("createReadWrite", id, p, limits, this::exists);
    }

    @Override
    public void remove(String id) {
        LayerIds.check("remove", id);
        maker.remove(id);
    }

    /** Works on a layer being applied too: the naive apply reads its layer back through get while it is marked. */
    @Override
    public Path get(String id, String mountLabel) {
        LayerIds.check("get", id);
        if (!Files.isDirectory(layout.diff(id), LinkOption.NOFOLLOW_LINKS)) throw new LayerUnknownException("get", id);
        return mounts.get(id, mountLabel);
    }

    @Override
    public void put(String id) {
        LayerIds.check("put", id);
        if (!Files.isDirectory(layout.dir(id), LinkOption.NOFOLLOW_LINKS)) throw new LayerUnknownException("put", id);
        mounts.put(id);
    }

    @Override
    public boolean exists(String id) {
        LayerIds.check("exists", id);
        return Files.isDirectory(layout.diff(id), LinkOption.NOFOLLOW_LINKS) && !incomplete.isIncomplete(id);
    }

    void requireLayer(String op, String id) {
        if (!exists(id)) throw new LayerUnknownException(op, id);
    }

    @Override
    public int references(String id) {
        LayerIds.check("references", id);
        return mounts.references(id);
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
        for (String id : layout.layerDirs()) if (!incomplete.isIncomplete(id)) out.add(id);
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
        s.add(new StatusEntry("Reference Counts", mounts.refs().directory().toString()));
        return s;
    }

    private String maxDepthText() {
        if (mounter.deepStacks()) return OverlayMounter.KERNEL_MAX_LOWERS + " lower layers (the kernel's limit)";
        return mounter.maxLowersClassic(layout.links(), true) + " lower layers (one page of mount(2) options with this home)";
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

    /**
     * The overlay {@link #get} would mount, as containerd's overlayfs snapshotter describes it: lowers through the
     * {@code l/} short links; a layer without lowers is a bind mount of its diff dir.
     */
    @Override
    public List<MountSpec> mountSpecs(String id, boolean readOnly) {
        LayerIds.check("mountSpecs", id);
        requireLayer("mountSpecs", id);
        boolean ro = readOnly || layout.isCommitted(id);
        List<Path> lowers = new ArrayList<>();
        for (String e : ro ? layout.lowerEntriesForChild(id) : layout.lowerEntries(id)) lowers.add(layout.linkPath(e));
        if (lowers.size() == (ro ? 1 : 0)) {
            return List.of(new MountSpec("bind", layout.diff(id).toString(), List.of(ro ? "ro" : "rw", "rbind")));
        }
        return List.of(new MountSpec("overlay", "overlay", mounter.specOptions(lowers, ro ? null : layout.diff(id), ro ? null : layout.work(id))));
    }

    /** Unmounts every layer this driver mounted under its home and resets every reference count. */
    @Override
    public void cleanup() {
        mounts.cleanup();
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
}
