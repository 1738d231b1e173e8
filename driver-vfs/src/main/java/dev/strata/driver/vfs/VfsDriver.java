package dev.strata.driver.vfs;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.DriverContext;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.MountSpecs;
import dev.strata.api.NotSupportedException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.RefCounts;
import dev.strata.api.RunDirectory;
import dev.strata.api.Sizes;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.NaiveDiff;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.ProjectQuota;
import dev.strata.nativeio.StatFs;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The vfs driver: every layer is a full copy of its parent under {@code <home>/dir/<id>}, as in moby. Get hands
 * out that directory (nothing is mounted); diffs are naive (tree comparison).
 *
 * <p>Strata's own state lives under {@code <home>/.strata}: a record per complete layer (parent, read-write) and
 * crash marks; reference counts are in the {@link RunDirectory}. A layer exists only once its record is written, and a mark left by a crash
 * in the middle of a create or an apply makes the next open remove that layer.
 */
final class VfsDriver implements StorageDriver, MountSpecs {
    static final String NAME = "vfs";

    private final Path home;
    private final Path layersDir;
    private final LayerRecords records;
    private final RefCounts refs;
    private final IncompleteLayers incomplete;
    private NaiveDiff naive;
    private final Long defaultSize;
    private final TreeCopier.Method copyStart;
    private volatile TreeCopier.Method copyMethod;
    private ProjectQuota quota;

    VfsDriver(DriverContext context) {
        this.home = context.home();
        this.layersDir = home.resolve("dir");
        Path state = home.resolve(".strata");
        this.records = new LayerRecords(state.resolve("layers"));
        this.refs = new RefCounts(RunDirectory.forHome(home).resolve("refs"), null);
        this.incomplete = new IncompleteLayers(state.resolve("incomplete"));
        this.defaultSize = context.options().size("vfs.size").orElse(null);
        this.copyStart = context.options().string("vfs.copy").map(VfsDriver::method).orElse(TreeCopier.Method.REFLINK);
        this.copyMethod = copyStart;
        try {
            Files.createDirectories(layersDir);
            Files.createDirectories(state);
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        if (defaultSize != null && defaultSize > 0) quota(); // refuse now, not at the first create
        removeIncomplete();
    }

    private static TreeCopier.Method method(String s) {
        return switch (s) {
            case "reflink" -> TreeCopier.Method.REFLINK;
            case "copy_file_range" -> TreeCopier.Method.COPY_FILE_RANGE;
            case "copy" -> TreeCopier.Method.READ_WRITE;
            default -> throw new InvalidOptionException(NAME, "vfs.copy", "invalid value for vfs.copy: \"" + s + "\" (reflink, copy_file_range or copy)");
        };
    }

    /** Layers whose create or apply was cut short are removed before anyone can see them. */
    private void removeIncomplete() {
        for (String id : incomplete.abandoned()) {
            refs.withLock(id, () -> {
                records.delete(id);
                deleteTree(layersDir.resolve(id));
                refs.forget(id);
                incomplete.clear(id);
                return null;
            });
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
        return new Capabilities(false, false, quotaSupported());
    }

    @Override
    public void create(String id, String parent, CreateOptions options) {
        if (!options.storageOpts().isEmpty()) {
            throw new StorageException("create", id, "--storage-opt is not supported for vfs on read-only layers (got "
                    + String.join(", ", options.storageOpts().keySet()) + ")");
        }
        make("create", id, parent, false, null);
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions options) {
        Long size = defaultSize;
        for (Map.Entry<String, String> e : options.storageOpts().entrySet()) {
            if (!e.getKey().equalsIgnoreCase("size")) {
                throw InvalidOptionException.unknown(NAME, e.getKey(), List.of("size"));
            }
            try {
                size = Sizes.parse(e.getValue());
            } catch (IllegalArgumentException ex) {
                throw new InvalidOptionException(NAME, "size", "invalid value for size: " + ex.getMessage());
            }
        }
        make("createReadWrite", id, parent, true, size);
    }

    private void make(String op, String id, String parent, boolean rw, Long size) {
        LayerIds.check(op, id);
        String p = LayerIds.checkParent(op, parent);
        if (size != null && size > 0) quota(); // not supported here: say so before anything is made
        refs.withLock(id, () -> {
            if (exists(id) || incomplete.isIncomplete(id) || Files.exists(layersDir.resolve(id))) {
                throw new LayerExistsException(op, id);
            }
            if (p != null && !exists(p)) throw new ParentUnknownException(op, id, p);
            incomplete.mark(id);
            Path dir = layersDir.resolve(id);
            try {
                Files.createDirectory(dir);
                if (p == null) {
                    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    TreeCopier copier = new TreeCopier(copyMethod);
                    copier.copy(layersDir.resolve(p), dir);
                    copyMethod = copier.method();
                }
                if (size != null && size > 0) quota().set(dir, size, 0);
                records.write(new LayerRecords.Record(id, p, rw));
                incomplete.clear(id);
            } catch (IOException | RuntimeException e) {
                deleteTree(dir);
                records.delete(id);
                incomplete.clear(id);
                if (e instanceof StorageException se) throw se;
                throw new StorageException(op, id, e.toString(), e);
            }
            return null;
        });
    }

    @Override
    public void remove(String id) {
        LayerIds.check("remove", id);
        refs.withLock(id, () -> {
            if (!records.has(id) && !Files.exists(layersDir.resolve(id))) throw new LayerUnknownException("remove", id);
            List<String> children = children(id);
            if (!children.isEmpty()) {
                throw new LayerBusyException("remove", id, "layer has children: " + String.join(", ", children));
            }
            // Mark first: if we die halfway, the next open finishes the removal instead of showing half a layer.
            incomplete.mark(id);
            records.delete(id);
            deleteTree(layersDir.resolve(id));
            refs.forget(id);
            if (quota != null) quota.forget(layersDir.resolve(id));
            incomplete.clear(id);
            return null;
        });
    }

    private List<String> children(String id) {
        List<String> out = new ArrayList<>();
        for (LayerRecords.Record r : records.all()) if (id.equals(r.parent())) out.add(r.id());
        return out;
    }

    @Override
    public Path get(String id, String mountLabel) {
        LayerIds.check("get", id);
        // Not exists(): an apply in progress marks its layer incomplete and reads it back through get.
        if (!records.has(id) || !Files.isDirectory(layersDir.resolve(id))) throw new LayerUnknownException("get", id);
        refs.acquire(id, () -> {
        });
        return layersDir.resolve(id);
    }

    /** A bind mount of the layer's directory, as containerd's native snapshotter answers. */
    @Override
    public List<MountSpec> mountSpecs(String id, boolean readOnly) {
        if (!exists(id)) throw new LayerUnknownException("mountSpecs", id);
        return List.of(new MountSpec("bind", layersDir.resolve(id).toString(), List.of(readOnly ? "ro" : "rw", "rbind")));
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
        return records.has(id) && !incomplete.isIncomplete(id) && Files.isDirectory(layersDir.resolve(id));
    }

    @Override
    public int references(String id) {
        LayerIds.check("references", id);
        return refs.count(id);
    }

    @Override
    public String parent(String id) {
        LayerRecords.Record r = existing("parent", id);
        return r.parent();
    }

    private LayerRecords.Record existing(String op, String id) {
        LayerIds.check(op, id);
        LayerRecords.Record r = exists(id) ? records.read(id) : null;
        if (r == null) throw new LayerUnknownException(op, id);
        return r;
    }

    @Override
    public List<String> layers() {
        List<String> out = new ArrayList<>();
        for (LayerRecords.Record r : records.all()) if (exists(r.id())) out.add(r.id());
        return out;
    }

    @Override
    public List<StatusEntry> status() {
        StatFs fs = StatFs.ofNearest(home);
        return List.of(
                new StatusEntry("Backing Filesystem", fs.typeName()),
                new StatusEntry("Copy Method", switch (copyMethod) {
                    case REFLINK -> copyMethod == copyStart ? "reflink (FICLONE) where supported" : "reflink (FICLONE)";
                    case COPY_FILE_RANGE -> "copy_file_range";
                    case READ_WRITE -> "read/write";
                }),
                new StatusEntry("Layers", Integer.toString(layers().size())),
                new StatusEntry("Quota", quotaStatus()));
    }

    private String quotaStatus() {
        if (defaultSize != null && defaultSize > 0) return "project quota, default " + Sizes.human(defaultSize);
        String missing = ProjectQuota.missingKernelSupport(StatFs.ofNearest(home));
        return missing == null ? "project quota where the filesystem enables it" : "not supported: " + missing;
    }

    @Override
    public Map<String, String> metadata(String id) {
        existing("metadata", id);
        return Map.of("Dir", layersDir.resolve(id).toString());
    }

    @Override
    public void cleanup() {
        // vfs mounts nothing; references stay for the layers' users.
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
    public long applyDiff(String id, String parent, InputStream diff) {
        existing("applyDiff", id);
        incomplete.mark(id);
        long size;
        try {
            size = naive().applyDiff(id, parent, diff);
        } catch (RuntimeException e) {
            // A layer half-applied is not the layer that was asked for: remove it, as the contract says.
            try {
                refs.withLock(id, () -> {
                    records.delete(id);
                    deleteTree(layersDir.resolve(id));
                    refs.forget(id);
                    incomplete.clear(id);
                    return null;
                });
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
        existing("diffSize", id);
        return naive().diffSize(id, parent);
    }

    /** Made on first use: short commands (exists, mount) should not pay for the archive code's set-up. */
    private synchronized NaiveDiff naive() {
        if (naive == null) naive = new NaiveDiff(this, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        return naive;
    }

    private synchronized ProjectQuota quota() {
        if (quota == null) {
            try {
                quota = ProjectQuota.open(layersDir);
            } catch (NotSupportedException e) {
                throw new NotSupportedException("vfs.size", home.toString(), "size limits need project quotas: " + e.reason());
            }
        }
        return quota;
    }

    private boolean quotaSupported() {
        try {
            quota();
            return true;
        } catch (NotSupportedException e) {
            return false;
        }
    }

    /** Removes a tree descriptor-relative, without following symlinks; missing is fine. */
    static void deleteTree(Path dir) {
        Trees.delete(dir);
    }
}
