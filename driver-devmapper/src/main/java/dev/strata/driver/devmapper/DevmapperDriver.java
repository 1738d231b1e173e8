package dev.strata.driver.devmapper;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.NotSupportedException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.Sizes;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.api.RefCounts;
import dev.strata.api.RunDirectory;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.NaiveDiff;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The devicemapper driver: every layer is a thin snapshot of its parent (or of the base device) in one thin pool,
 * mounted on {@code get} at {@code mnt/<id>} and handed out as {@code mnt/<id>/rootfs}, as in moby's driver.
 * Diffs are naive (tree comparison), since a snapshot has no record of what changed.
 */
public final class DevmapperDriver implements StorageDriver {
    static final String NAME = "devmapper";

    private final Path home;
    private final DevmapperOptions opts;
    private final RefCounts refs;
    private final IncompleteLayers incomplete;
    private final NaiveDiff diffs;
    private DeviceSet ds;
    private ScheduledExecutorService deletionWorker;

    DevmapperDriver(Path home, DevmapperOptions opts) {
        this.home = home.toAbsolutePath().normalize();
        this.opts = opts;
        this.refs = new RefCounts(RunDirectory.forHome(this.home).resolve("refs"), id -> MountInfo.isMountPoint(mountPoint(id)));
        this.incomplete = new IncompleteLayers(this.home.resolve(".incomplete"));
        this.diffs = new NaiveDiff(this, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        try {
            // the home exists once the driver is open (DriverProvider.open); the pool waits for the first use
            Files.createDirectories(this.home);
            Files.setPosixFilePermissions(this.home, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new StorageException("open", this.home.toString(), e.toString(), e);
        }
    }

    /**
     * The device set, opened on first use (and again after {@link #cleanup}): a driver that is only opened makes
     * no loop or dm device. Half-made layers are removed then.
     */
    synchronized DeviceSet devices() {
        if (ds == null) {
            ds = DeviceSets.open(home, opts);
            ds.lock.locked(this::removeIncompleteLayers);
            if (ds.deferredDelete) {
                deletionWorker = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "devmapper-deferred-deletion");
                    t.setDaemon(true);
                    return t;
                });
                DeviceSet set = ds;
                deletionWorker.scheduleWithFixedDelay(() -> {
                    try {
                        if (set.deletedDeviceCount() > 0) set.cleanupDeletedDevices();
                    } catch (RuntimeException ignored) {
                        // logged by cleanupDeletedDevices; tried again in 30 s
                    }
                }, 30, 30, TimeUnit.SECONDS);
            }
        }
        return ds;
    }

    /** A layer marked incomplete was being created or removed when the process died: finish removing it. */
    private void removeIncompleteLayers() {
        for (String id : incomplete.abandoned()) {
            try {
                Path mp = mountPoint(id);
                Mounts.unmountIfMounted(mp, Mounts.MNT_DETACH);
                if (ds.info(id) != null) ds.delete(id, true);
                deleteMountPoint(id);
                refs.forget(id);
                incomplete.clear(id);
            } catch (RuntimeException e) {
                // still invisible (the mark stays); tried again at the next start
                java.util.logging.Logger.getLogger(DevmapperDriver.class.getName())
                        .warning("cannot remove incomplete layer " + id + " yet: " + e.getMessage());
            }
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Path home() {
        return home;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false, true);
    }

    Path mountPoint(String id) {
        return home.resolve("mnt").resolve(id);
    }

    private static String checkId(String op, String id) {
        return LayerIds.check(op, id);
    }

    @Override
    public void create(String id, String parent, CreateOptions options) {
        createLayer("create", id, parent, options);
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions options) {
        createLayer("createReadWrite", id, parent, options);
    }

    private void createLayer(String op, String id, String parent, CreateOptions options) {
        checkId(op, id);
        String p = LayerIds.checkParent(op, parent);
        Long size = sizeOption(options);
        DeviceSet set = devices();
        set.lock.locked(() -> {
            if (exists(id)) throw new LayerExistsException(op, id);
            DevInfo parentInfo = set.info(p == null ? "" : p);
            if (p != null && (parentInfo == null || parentInfo.deleted() || incomplete.isIncomplete(p))) {
                throw new ParentUnknownException(op, id, p);
            }
            if (parentInfo == null) throw new StorageException(op, id, "devmapper: the base device is missing");
            long s = size == null ? parentInfo.size() : size;
            if (s < parentInfo.size()) {
                // a thin snapshot is at least its origin's size: a smaller quota is not something devmapper can do
                throw new NotSupportedException(op, id, "devmapper: Container size cannot be smaller than " + Sizes.human(parentInfo.size()));
            }
            DevInfo stale = set.info(id);
            if (stale != null && stale.deleted()) set.delete(id, true); // deferred deletion still pending: finish it now
            incomplete.mark(id);
            CrashPoints.reach("create-after-mark", id);
            try {
                set.snapshot(id, p == null ? "" : p, parentInfo, s);
                if (s > parentInfo.size()) DeviceMounts.growFs(set, id);
            } catch (RuntimeException e) {
                try {
                    if (set.info(id) != null) set.delete(id, true);
                    incomplete.clear(id);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            CrashPoints.reach("create-before-clear", id);
            incomplete.clear(id);
        });
    }

    private static Long sizeOption(CreateOptions options) {
        Long size = null;
        for (Map.Entry<String, String> e : (options == null ? CreateOptions.NONE : options).storageOpts().entrySet()) {
            String key = e.getKey().toLowerCase(java.util.Locale.ROOT);
            if (!key.equals("size")) throw new InvalidOptionException(NAME, key, "devmapper: Unknown option " + key + " (valid keys: size)");
            try {
                size = Sizes.parse(e.getValue()) / 512 * 512;
            } catch (IllegalArgumentException ex) {
                throw new InvalidOptionException(NAME, key, "invalid value for size: " + ex.getMessage());
            }
        }
        return size;
    }

    @Override
    public void remove(String id) {
        checkId("remove", id);
        DeviceSet set = devices();
        // lock order everywhere: the layer's reference lock, then the pool lock (get and put take them so too)
        refs.withLock(id, () -> set.lock.locked(() -> {
            if (!exists(id)) throw new LayerUnknownException("remove", id);
            List<String> children = children(set, id);
            if (!children.isEmpty()) throw new LayerBusyException("remove", id, "layer has children: " + String.join(", ", children));
            incomplete.mark(id); // a crash from here on must not leave a half-removed layer that exists()
            try {
                DeviceMounts.unmount(set, id, mountPoint(id));
                set.delete(id, false);
            } catch (RuntimeException e) {
                if (set.info(id) != null) incomplete.clear(id); // nothing was deleted: the layer is still whole
                throw e;
            }
            deleteMountPoint(id);
            refs.forget(id);
            incomplete.clear(id);
            return null;
        }));
    }

    private static List<String> children(DeviceSet set, String id) {
        List<String> out = new ArrayList<>();
        for (String h : set.hashes()) {
            DevInfo i = set.info(h);
            if (i != null && !i.deleted() && id.equals(i.parent())) out.add(h);
        }
        out.sort(null);
        return out;
    }

    @Override
    public Path get(String id, String mountLabel) {
        checkId("get", id);
        DeviceSet set = devices();
        DevInfo info = set.info(id);
        // a layer being applied is incomplete but must mount: the apply itself writes through get
        if (info == null || info.deleted()) throw new LayerUnknownException("get", id);
        Path mp = mountPoint(id);
        refs.acquire(id, () -> {
            try {
                Files.createDirectories(mp);
                DeviceMounts.mount(set, id, mp, mountLabel);
                try {
                    Path rootfs = mp.resolve("rootfs");
                    if (!Files.isDirectory(rootfs)) Files.createDirectory(rootfs);
                    Path idFile = mp.resolve("id");
                    // a snapshot starts with its parent's id file: moby keeps that; say which layer this is
                    if (!Files.exists(idFile) || !Files.readString(idFile).equals(id)) {
                        Files.writeString(idFile, id);
                        Files.setPosixFilePermissions(idFile, PosixFilePermissions.fromString("rw-------"));
                    }
                } catch (IOException | RuntimeException e) {
                    DeviceMounts.unmount(set, id, mp);
                    throw e;
                }
            } catch (IOException e) {
                throw new StorageException("get", mp.toString(), e.toString(), e);
            }
        });
        return mp.resolve("rootfs");
    }

    @Override
    public void put(String id) {
        checkId("put", id);
        DeviceSet set = devices();
        refs.release(id, () -> {
            DeviceMounts.unmount(set, id, mountPoint(id));
            deleteMountPoint(id);
        });
    }

    private void deleteMountPoint(String id) {
        try {
            Files.deleteIfExists(mountPoint(id));
        } catch (IOException ignored) {
            // moby: "A failure to remove the container's mount point is not important"
        }
    }

    @Override
    public boolean exists(String id) {
        checkId("exists", id);
        DevInfo i = devices().info(id);
        return i != null && !i.deleted() && !incomplete.isIncomplete(id);
    }

    @Override
    public int references(String id) {
        checkId("references", id);
        return refs.count(id);
    }

    @Override
    public String parent(String id) {
        checkId("parent", id);
        if (!exists(id)) throw new LayerUnknownException("parent", id);
        return devices().info(id).parent();
    }

    @Override
    public List<String> layers() {
        DeviceSet set = devices();
        List<String> out = new ArrayList<>();
        for (String h : set.hashes()) {
            if (h.isEmpty() || incomplete.isIncomplete(h)) continue;
            DevInfo i = set.info(h);
            if (i != null && !i.deleted()) out.add(h);
        }
        return out;
    }

    @Override
    public List<StatusEntry> status() {
        return DevmapperStatus.of(devices());
    }

    @Override
    public Map<String, String> metadata(String id) {
        checkId("metadata", id);
        if (!exists(id)) throw new LayerUnknownException("metadata", id);
        DeviceSet set = devices();
        DevInfo i = set.info(id);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("DeviceId", Integer.toString(i.deviceId()));
        m.put("DeviceSize", Long.toString(i.size()));
        m.put("DeviceName", set.devPath(id).toString());
        return m;
    }

    @Override
    public synchronized void cleanup() {
        if (ds == null) return;
        if (deletionWorker != null) {
            deletionWorker.shutdownNow();
            deletionWorker = null;
        }
        try {
            Mounts.unmountAllUnder(home.resolve("mnt"));
            DeviceSets.close(ds);
        } finally {
            ds = null;
        }
    }

    // ---- diffs: naive, by comparing mounted trees ----

    @Override
    public InputStream diff(String id, String parent) {
        return diffs.diff(id, parent);
    }

    @Override
    public List<Change> changes(String id, String parent) {
        return diffs.changes(id, parent);
    }

    /**
     * Applies through the naive diff (get, untar, put). The layer is marked incomplete meanwhile: a crash leaves it
     * to be removed at the next start, and a failed apply removes it now, since a half-applied layer is not the
     * layer that was asked for.
     */
    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        checkId("applyDiff", id);
        if (!exists(id)) throw new LayerUnknownException("applyDiff", id);
        incomplete.mark(id);
        long size;
        try {
            size = diffs.applyDiff(id, parent, diff);
        } catch (RuntimeException e) {
            try {
                DeviceSet set = devices();
                refs.withLock(id, () -> set.lock.locked(() -> {
                    DeviceMounts.unmount(set, id, mountPoint(id));
                    set.delete(id, true);
                    deleteMountPoint(id);
                    refs.forget(id);
                    incomplete.clear(id);
                    return null;
                }));
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        incomplete.clear(id);
        return size;
    }

    @Override
    public long diffSize(String id, String parent) {
        return diffs.diffSize(id, parent);
    }
}
