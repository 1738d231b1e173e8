package dev.strata.driver.devmapper;

import dev.strata.api.Capabilities;
import dev.strata.api.IdMaps;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerStore;
import dev.strata.api.NotSupportedException;
import dev.strata.api.Sizes;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerDiffs;
import dev.strata.archive.NaiveDiff;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.kit.LayerIdMaps;
import dev.strata.kit.LayerStorage;
import dev.strata.kit.NewLayer;
import dev.strata.kit.StagedApply;
import dev.strata.nativeio.MountRoots;
import dev.strata.nativeio.Mounts;

import java.io.IOException;
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
 * The devicemapper driver's storage: every layer is a thin snapshot of its parent (or of the base device) in one
 * thin pool, mounted at {@code mnt/<id>} and handed out as {@code mnt/<id>/rootfs}, as in moby's driver. Diffs are
 * naive (tree comparison), since a snapshot has no record of what changed. The contract around it is the kit's.
 *
 * <p>An apply writes into a thin snapshot of the layer itself (device {@code -apply-<id>}, which costs no data) and
 * the layer's record then takes that snapshot's device ({@link DeviceSet#replace}). A create that grows the
 * filesystem does it on {@code -new-<id>} and renames the record last, so a layer is never seen half grown.
 * Device names starting with '-' are never layer ids.
 */
public final class DevmapperStorage implements LayerStorage {
    static final String NAME = "devmapper";
    private static final String STAGED = "-apply-", NEW = "-new-";

    private final Path home;
    private final DevmapperOptions opts;
    private DeviceSet ds;
    private ScheduledExecutorService deletionWorker;
    private final DeviceIdMaps idMaps;

    DevmapperStorage(Path home, DevmapperOptions opts) {
        this.home = home.toAbsolutePath().normalize();
        this.opts = opts;
        this.idMaps = new DeviceIdMaps(this.home);
        try {
            // the home exists once the driver is open (DriverProvider.open); the pool waits for the first use
            Files.createDirectories(this.home);
            Files.setPosixFilePermissions(this.home, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new StorageException("open", this.home.toString(), e.toString(), e);
        }
    }

    /** The device set, opened on first use (and again after {@link #cleanup}): opening the driver makes no device. */
    synchronized DeviceSet devices() {
        if (ds == null) {
            ds = DeviceSets.open(home, opts);
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
        return new Capabilities(false, true);
    }

    Path mountPoint(String hash) {
        return home.resolve("mnt").resolve(hash);
    }

    // ---- layers

    @Override
    public void create(NewLayer layer) {
        String op = layer.operation(), id = layer.id(), p = layer.parent();
        Long size = sizeOption(layer);
        DeviceSet set = devices();
        set.lock.locked(() -> {
            DevInfo parentInfo = set.info(p == null ? "" : p);
            if (parentInfo == null) throw new StorageException(op, id, "devmapper: the base device is missing");
            long s = size == null ? parentInfo.size() : size;
            if (s < parentInfo.size()) {
                // a thin snapshot is at least its origin's size: a smaller quota is not something devmapper can do
                throw new NotSupportedException(op, id, "devmapper: Container size cannot be smaller than " + Sizes.human(parentInfo.size()));
            }
            dropLeftovers(set, id); // what a lost create or remove of this id left (a deferred deletion included)
            IdMaps maps = layer.options().idMaps();
            boolean mapped = !maps.isNone() || (p != null && !idMaps.stored(p).isNone());
            if (s == parentInfo.size() && !mapped) {
                set.snapshot(id, p == null ? "" : p, parentInfo, s); // registering is the commit point
                return;
            }
            String staged = NEW + id;
            set.snapshot(staged, p == null ? "" : p, parentInfo, s);
            if (s != parentInfo.size()) DeviceMounts.growFs(set, staged);
            if (mapped) prepareIdMaps(set, id, p, maps, staged);
            CrashPoints.reach("create-before-commit", id);
            set.store.rename(staged, id); // the commit point
        });
    }

    /** A mapped layer's snapshot, before it is the layer: its owners shifted where the kernel cannot idmap them. */
    private void prepareIdMaps(DeviceSet set, String id, String p, IdMaps maps, String staged) {
        Path mp = mountPoint(staged);
        boolean mounted = idMaps.prepare(id, p, maps, () -> {
            try {
                Files.createDirectories(mp);
                DeviceMounts.mount(set, staged, mp, null);
                Path rootfs = mp.resolve("rootfs");
                if (!Files.isDirectory(rootfs)) Files.createDirectory(rootfs);
                return rootfs;
            } catch (IOException e) {
                throw new StorageException("create", mp.toString(), e.toString(), e);
            }
        });
        if (mounted) {
            Mounts.unmountIfMounted(mp, 0); // flushed before the layer takes the device
            set.deactivate(staged, false);
            deleteMountPoint(staged);
        }
    }

    private static Long sizeOption(NewLayer layer) {
        Long size = null;
        for (Map.Entry<String, String> e : layer.options().storageOpts().entrySet()) {
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

    /**
     * A thin snapshot (and a grow when asked), under the pool lock anyway: no copying. A create drops what an
     * earlier create of the id left first; the pool's transactions undo a snapshot cut short.
     */
    @Override
    public boolean createsQuickly() {
        return true;
    }

    /**
     * Removes the layer's device (deferred when busy and deferred deletion is on), and what a create of the id cut
     * short left ({@code -new-<id>}).
     */
    @Override
    public void remove(String id) {
        DeviceSet set = devices();
        set.lock.locked(() -> {
            DeviceMounts.unmount(set, id, mountPoint(id));
            deleteMountPoint(id); // before the device goes: a kill from there on leaves no mnt/<id> behind (mount makes it)
            DevInfo info = set.info(id);
            if (info != null && !info.deleted()) set.delete(id, false);
            dropLeftovers(set, NEW + id);
            idMaps.forget(id);
        });
    }

    /** Deletes a device of this name now, whatever state it is in. */
    private void dropLeftovers(DeviceSet set, String hash) {
        if (set.info(hash) == null) return;
        DeviceMounts.unmount(set, hash, mountPoint(hash));
        set.delete(hash, true);
        deleteMountPoint(hash);
    }

    @Override
    public boolean exists(String id) {
        DevInfo i = devices().info(id);
        return i != null && !i.deleted();
    }

    @Override
    public String parent(String id) {
        return devices().info(id).parent();
    }

    @Override
    public List<String> layers() {
        DeviceSet set = devices();
        List<String> out = new ArrayList<>();
        for (String h : set.hashes()) {
            if (h.isEmpty() || h.startsWith("-")) continue; // the base device, staged copies
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
        DeviceSet set = devices();
        DevInfo i = set.info(id);
        Map<String, String> m = new LinkedHashMap<>();
        m.put("DeviceId", Integer.toString(i.deviceId()));
        m.put("DeviceSize", Long.toString(i.size()));
        m.put("DeviceName", set.devPath(id).toString());
        return m;
    }

    // ---- id maps: idmapped mounts of the rootfs, or a chown copy (DeviceIdMaps)

    @Override
    public Support idMapSupport() {
        return idMaps.support();
    }

    @Override
    public String idMapMethod(String id) {
        return idMaps.method(id);
    }

    @Override
    public void attach(LayerIdMaps made) {
        idMaps.attach(made);
    }

    // ---- mounts

    @Override
    public Path root(String id) {
        return mountPoint(id).resolve("rootfs");
    }

    @Override
    public void mount(String id, String mountLabel) {
        DeviceSet set = devices();
        Path mp = mountPoint(id);
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
                idMaps.show(id, rootfs);
            } catch (IOException | RuntimeException e) {
                DeviceMounts.unmount(set, id, mp);
                throw e;
            }
        } catch (IOException e) {
            throw new StorageException("get", mp.toString(), e.toString(), e);
        }
    }

    @Override
    public void unmount(String id) {
        DeviceSet set = devices();
        DeviceMounts.unmount(set, id, mountPoint(id));
        deleteMountPoint(id);
    }

    @Override
    public boolean isMounted(String id) {
        return MountRoots.isMountRoot(mountPoint(id));
    }

    private void deleteMountPoint(String hash) {
        try {
            Files.deleteIfExists(mountPoint(hash));
        } catch (IOException ignored) {
            // moby: "A failure to remove the container's mount point is not important"
        }
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

    // ---- diffs: naive, by comparing mounted trees; applies into a thin snapshot of the layer

    @Override
    public LayerDiffs diffs(LayerStore layers) {
        return new NaiveDiff(layers);
    }

    @Override
    public StagedApply stageApply(String id, String parent) {
        DeviceSet set = devices();
        String staged = STAGED + LayerIds.check("applyDiff", id);
        Path mp = mountPoint(staged);
        set.lock.locked(() -> {
            set.dropStaged(id, staged);
            DevInfo info = set.info(id);
            set.snapshot(staged, id, info, info.size());
        });
        try {
            Files.createDirectories(mp);
            DeviceMounts.mount(set, staged, mp, null);
            Files.createDirectories(mp.resolve("rootfs"));
        } catch (IOException | RuntimeException e) {
            discardStaged(id);
            if (e instanceof RuntimeException r) throw r;
            throw new StorageException("applyDiff", id, e.toString(), e);
        }
        return new StagedApply() {
            @Override
            public Path root() {
                return mp.resolve("rootfs");
            }

            @Override
            public ApplyOptions options() {
                return ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE).withIds(idMaps.applied(id));
            }

            @Override
            public void commit() {
                Mounts.unmountIfMounted(mp, 0); // not lazily: the copy's filesystem is flushed before the layer takes it
                deleteMountPoint(staged);
                set.replace(id, staged);
            }

            @Override
            public void discard() {
                discardStaged(id);
            }
        };
    }

    @Override
    public void discardStaged(String id) {
        DeviceSet set = devices();
        String staged = STAGED + id;
        set.lock.locked(() -> {
            if (set.info(staged) == null) return;
            Mounts.unmountIfMounted(mountPoint(staged), 0);
            set.deactivate(staged, false); // now, not deferred: the pool would refuse to delete an active device
            set.dropStaged(id, staged);
        });
        deleteMountPoint(staged);
    }

    /**
     * The creates and applies a kill cut short, by their {@code -new-<id>} and {@code -apply-<id>} records (read
     * without starting the pool): a quick create has no mark, and an apply's lived in the run directory, so after a
     * reboot or a stale sweep only this finds them; the kit drops each ({@link #discardStaged}, then {@link #remove}
     * when {@code <id>} is not a layer), which would otherwise hold its thin device for good. A remove cut short
     * needs no name here: until its record is marked deleted the layer is whole, and a record marked deleted is
     * deleted at every start of the pool ({@link Recovery}); the id map record ({@code shifted/<id>}) it forgets last is
     * named here when no device record is left.
     */
    @Override
    public List<String> cutShort() {
        java.util.Set<String> hashes = new java.util.HashSet<>(new MetadataStore(home.resolve("metadata")).hashes());
        List<String> ids = new ArrayList<>();
        for (String h : hashes) {
            for (String prefix : new String[]{STAGED, NEW}) {
                if (h.startsWith(prefix) && h.length() > prefix.length()) ids.add(h.substring(prefix.length()));
            }
        }
        for (String id : idMaps.recorded()) if (!hashes.contains(id)) ids.add(id);
        return ids;
    }
}
