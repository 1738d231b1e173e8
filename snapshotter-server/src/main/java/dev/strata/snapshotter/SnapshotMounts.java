package dev.strata.snapshotter;

import dev.strata.api.MountSpecs;
import dev.strata.api.MountSpecs.MountSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.nativeio.MountRoots;
import dev.strata.nativeio.Mounts;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What containerd is told to mount for an active snapshot or a view, and the mounts Strata makes itself.
 *
 * <ul>
 *   <li>A driver with {@link MountSpecs} describes the mount; containerd makes it. containerd's mount code fails
 *   once an overlay's options pass a page (its common-prefix compaction starts at a page less 512 bytes and does
 *   not always get under it), so a spec of {@value #SPEC_LIMIT} bytes or more is mounted here instead, with the
 *   new mount API ({@link SpecMounter}), at {@code mounts/<snapshot id>}, and containerd gets a bind mount of it.</li>
 *   <li>A driver without specs mounts the layer itself ({@link StorageDriver#get}, one reference per snapshot);
 *   containerd gets a bind mount of its root.</li>
 * </ul>
 * Both are undone by {@link #release} (Commit, Remove) and, for snapshots that are gone, by {@link #sweep} (at
 * start, and on Cleanup), so a restarted snapshotter cleans up after the one before it.
 */
final class SnapshotMounts {
    /** containerd compacts overlay options from a page less 512 bytes on, and fails past a page. */
    static final int SPEC_LIMIT = 4096 - 512;
    private static final System.Logger LOG = System.getLogger(SnapshotMounts.class.getName());

    private final StorageDriver driver;
    private final Optional<MountSpecs> specs;
    private final Path dir;
    private final java.util.Map<String, List<MountSpec>> described = new java.util.concurrent.ConcurrentHashMap<>();

    SnapshotMounts(StorageDriver driver, Path dir) {
        this.driver = driver;
        this.specs = MountSpecs.of(driver);
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new StorageException("open", dir, e.toString(), e);
        }
    }

    /** Whether the driver describes its mounts (else every snapshot, views included, has a layer it mounts). */
    boolean describesMounts() {
        return specs.isPresent();
    }

    /**
     * The mounts for snapshot {@code id} whose content is {@code layer}: read-write for an active one. A driver's
     * description of an active snapshot or a view never changes (an active one has no child to make it read-only),
     * so it is kept until {@link #release}: containerd asks again for every container start.
     */
    List<MountSpec> mounts(String id, String layer, boolean readOnly) {
        List<MountSpec> known = described.get(id);
        if (known != null) return known;
        if (specs.isPresent()) {
            List<MountSpec> s = specs.get().mountSpecs(layer, readOnly);
            if (s.size() != 1 || optionBytes(s.getFirst()) < SPEC_LIMIT) {
                described.put(id, s);
                return s;
            }
            Path target = dir.resolve(id);
            synchronized (this) {
                if (!MountRoots.isMountRoot(target)) {
                    mkdir(target);
                    try {
                        SpecMounter.mount(s.getFirst(), target, readOnly);
                    } catch (RuntimeException e) {
                        deleteMountPoint(target);
                        throw e;
                    }
                }
            }
            return List.of(bind(target, readOnly));
        }
        return List.of(bind(driverRoot(layer), readOnly));
    }

    /** What {@link #mounts} last described for snapshot {@code id}, if it is still current; else null. */
    List<MountSpec> known(String id) {
        return described.get(id);
    }

    /**
     * The directory whose content is the layer's own (what Usage counts) for active snapshot {@code id}, which the
     * driver describes (not {@link #mountedByDriver}): read off the mounts already described for it, else asked of
     * the driver.
     */
    Path ownContent(String id, String layer) {
        List<MountSpec> known = described.get(id);
        return known != null && known.size() == 1 && specs.isPresent() ? upper(known.getFirst(), layer) : ownContent(layer);
    }

    /** The directory whose content is the layer's own (what Usage counts) for an active snapshot. */
    Path ownContent(String layer) {
        if (specs.isEmpty()) return driverRoot(layer);
        return upper(specs.get().mountSpecs(layer, false).getFirst(), layer);
    }

    private static Path upper(MountSpec s, String layer) {
        if (s.type().equals("bind")) return Path.of(s.source());
        for (String o : s.options()) if (o.startsWith("upperdir=")) return Path.of(SpecMounter.unescape(o.substring(9)));
        throw new StorageException("usage", layer, "the driver's mount has no upper directory");
    }

    /**
     * A layer made with id maps, as containerd gets it: a bind of the root the driver mounted ({@link
     * StorageDriver#get}), since only the driver shows the layer under its maps (idmapped lowers, or its chown copy).
     */
    List<MountSpec> mountedByDriver(String id, String layer, boolean readOnly) {
        List<MountSpec> known = described.get(id); // kept until release, as a description is: Mounts stays a lookup
        if (known != null) return known;
        List<MountSpec> m = List.of(bind(driverRoot(layer), readOnly));
        described.put(id, m);
        return m;
    }

    /** Undoes what Strata mounted for the snapshot: its own overlay, or the driver's reference. */
    synchronized void release(String id, String layer) {
        release(id, layer, false);
    }

    /** As {@link #release(String, String)}; {@code mountedByDriver}: its layer may also hold a {@link #mountedByDriver} reference. */
    synchronized void release(String id, String layer, boolean mountedByDriver) {
        described.remove(id);
        unmountOwn(dir.resolve(id));
        if ((specs.isEmpty() || mountedByDriver) && layer != null && driver.exists(layer)) {
            while (driver.references(layer) > 0) driver.put(layer);
        }
    }

    /** Unmounts what Strata mounted for snapshots for which {@code keep} says no (gone, or committed). */
    synchronized int sweep(Predicate<String> keep) {
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (keep.test(p.getFileName().toString())) continue;
                unmountOwn(p);
                n++;
            }
        } catch (IOException e) {
            throw new StorageException("cleanup", dir, e.toString(), e);
        }
        return n;
    }

    /** How many mounts Strata made itself are in place. */
    synchronized int count() {
        try (var s = Files.list(dir)) {
            return (int) s.count();
        } catch (IOException e) {
            throw new StorageException("list", dir, e.toString(), e);
        }
    }

    /** The driver's root for a layer, mounted once: one reference per snapshot, however often containerd asks. */
    private synchronized Path driverRoot(String layer) {
        Path root = driver.get(layer, null);
        if (driver.references(layer) > 1) driver.put(layer);
        return root;
    }

    private void unmountOwn(Path target) {
        if (!Files.exists(target)) return;
        Mounts.unmountIfMounted(target, Mounts.MNT_DETACH);
        deleteMountPoint(target);
    }

    private static MountSpec bind(Path source, boolean readOnly) {
        return new MountSpec("bind", source.toString(), List.of(readOnly ? "ro" : "rw", "rbind"));
    }

    private static int optionBytes(MountSpec s) {
        int n = 0;
        for (String o : s.options()) n += o.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1;
        return n;
    }

    private static void mkdir(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new StorageException("mount", p, e.toString(), e);
        }
    }

    private static void deleteMountPoint(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove mount point {0}: {1}", p, e);
        }
    }
}
