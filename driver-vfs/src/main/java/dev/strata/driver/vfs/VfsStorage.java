package dev.strata.driver.vfs;

import dev.strata.api.Capabilities;
import dev.strata.api.DriverContext;
import dev.strata.api.IdMaps;
import dev.strata.api.IdTranslation;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.MountSpecs;
import dev.strata.api.NotSupportedException;
import dev.strata.api.Sizes;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.kit.DirectoryStaging;
import dev.strata.kit.DriverKit;
import dev.strata.kit.LayerDirectories;
import dev.strata.kit.LayerIdMaps;
import dev.strata.kit.DirectoryStorage;
import dev.strata.kit.NewLayer;
import dev.strata.kit.StagedApply;
import dev.strata.kit.TreeCopier;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.ProjectQuota;
import dev.strata.nativeio.StatFs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The vfs driver's storage: every layer is a full copy of its parent under {@code <home>/dir/<id>}, as in moby. Get
 * hands out that directory (nothing is mounted); diffs are naive (tree comparison). The contract around it is the
 * driver kit's ({@link DriverKit}).
 *
 * <p>A layer made with id maps is moby's chown copy: its parent copied with every owner shifted to host ids.
 *
 * <p>A layer exists when both its record ({@code <home>/.strata/layers/<id>}: parent, read-write) and {@code dir/<id>}
 * are there. A create copies into {@code dir/.new-<id>}, writes the record, and renames the copy into place: the
 * commit point. A remove renames {@code dir/<id>} away first, then drops the record. So a record without its
 * directory is only ever seen beside a {@code .new-} or {@code .removing-} entry of the id, and a partial copy
 * never as {@code dir/<id>} ({@link LayerDirectories}): a create or remove cut short, even with the kit's marks lost,
 * is found and swept ({@link #cutShort}). An apply is staged in {@code dir/.apply-<id>} (hardlinks of the layer's
 * files) and swapped in.
 */
final class VfsStorage implements DirectoryStorage, MountSpecs {
    static final String NAME = "vfs";

    private final Path home;
    private final Path layersDir;
    private final LayerDirectories dirs;
    private final LayerRecords records;
    private final Long defaultSize;
    private final TreeCopier.Method copyStart;
    private volatile TreeCopier.Method copyMethod;
    private volatile LayerIdMaps idMaps;
    private ProjectQuota quota;

    VfsStorage(DriverContext context) {
        this.home = context.home();
        this.layersDir = home.resolve("dir");
        this.dirs = new LayerDirectories(layersDir);
        this.records = new LayerRecords(home.resolve(DriverKit.STATE_DIR).resolve("layers"));
        this.defaultSize = context.options().size("vfs.size").orElse(null);
        this.copyStart = context.options().string("vfs.copy").map(VfsStorage::method).orElse(TreeCopier.Method.REFLINK);
        this.copyMethod = copyStart;
        try {
            Files.createDirectories(layersDir);
        } catch (IOException e) {
            throw new StorageException("open", home.toString(), e.toString(), e);
        }
        if (defaultSize != null && defaultSize > 0) quota(); // refuse now, not at the first create
    }

    private static TreeCopier.Method method(String s) {
        return switch (s) {
            case "reflink" -> TreeCopier.Method.REFLINK;
            case "copy_file_range" -> TreeCopier.Method.COPY_FILE_RANGE;
            case "copy" -> TreeCopier.Method.READ_WRITE;
            default -> throw new InvalidOptionException(NAME, "vfs.copy", "invalid value for vfs.copy: \"" + s + "\" (reflink, copy_file_range or copy)");
        };
    }

    /** A bind mount of the layer's directory, as containerd's native snapshotter answers. The kit has checked the id. */
    @Override
    public List<MountSpec> mountSpecs(String id, boolean readOnly) {
        return List.of(new MountSpec("bind", layersDir.resolve(id).toString(), List.of(readOnly ? "ro" : "rw", "rbind")));
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
        return new Capabilities(false, quotaSupported());
    }

    // ---- layers

    @Override
    public boolean exists(String id) {
        return records.has(id) && PosixFiles.lexists(layersDir.resolve(id));
    }

    @Override
    public String parent(String id) {
        LayerRecords.Record r = records.read(id);
        return r == null ? null : r.parent();
    }

    @Override
    public List<String> layers() {
        List<String> out = new ArrayList<>();
        for (LayerRecords.Record r : records.all()) out.add(r.id());
        return out;
    }

    /** One read of each record, which holds the parent. */
    @Override
    public Map<String, String> parents() {
        Map<String, String> out = new HashMap<>();
        for (LayerRecords.Record r : records.all()) out.put(r.id(), r.parent());
        return out;
    }

    @Override
    public void create(NewLayer layer) {
        String op = layer.operation(), id = layer.id(), p = layer.parent();
        Long size = layer.readWrite() ? sizeOption(layer) : null;
        if (!layer.readWrite() && !layer.options().storageOpts().isEmpty()) {
            throw new StorageException(op, id, "--storage-opt is not supported for vfs on read-only layers (got "
                    + String.join(", ", layer.options().storageOpts().keySet()) + ")");
        }
        if (size != null && size > 0) quota(); // not supported here: say so before anything is made
        Path dir = dirs.stage(id);
        boolean recorded = false;
        try {
            IdMaps maps = layer.options().idMaps();
            if (p == null) {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                if (!maps.isNone()) PosixFiles.fchownat(null, dir.toString(), maps.rootUid(), maps.rootGid(), 0);
            } else {
                // moby's chown copy: the parent's files, owners shifted from the parent's maps to this layer's
                IdTranslation ids = new IdTranslation(idMaps == null ? IdMaps.NONE : idMaps.of(p), maps);
                TreeCopier copier = new TreeCopier(copyMethod, ids);
                copier.copy(layersDir.resolve(p), dir);
                copyMethod = copier.method();
            }
            if (size != null && size > 0) quota().set(dir, size, 0);
            // Before the rename: a record without its directory is no layer, and .new-<id> names it for a sweep.
            records.write(new LayerRecords.Record(id, p, layer.readWrite()));
            recorded = true;
            // The commit point. A dir/<id> in the way has no record (the kit found no layer): an older version's
            // create or remove of the id cut short left it, as vfs always took it.
            dirs.publishReplacing(op, id);
        } catch (IOException | RuntimeException e) {
            if (size != null && size > 0) forgetQuota(dir);
            dirs.unstage(id);
            if (recorded) {
                try {
                    records.delete(id);
                } catch (RuntimeException second) {
                    e.addSuppressed(second);
                }
            }
            if (e instanceof RuntimeException r) throw r;
            throw new StorageException(op, id, e.toString(), e);
        }
        if (size != null && size > 0) {
            synchronized (this) {
                quota.moved(dir, layersDir.resolve(id));
            }
        }
    }

    private Long sizeOption(NewLayer layer) {
        Long size = defaultSize;
        for (Map.Entry<String, String> e : layer.options().storageOpts().entrySet()) {
            if (!e.getKey().equalsIgnoreCase("size")) throw InvalidOptionException.unknown(NAME, e.getKey(), List.of("size"));
            try {
                size = Sizes.parse(e.getValue());
            } catch (IllegalArgumentException ex) {
                throw new InvalidOptionException(NAME, "size", "invalid value for size: " + ex.getMessage());
            }
        }
        return size;
    }

    /** The layer renamed away, then its record dropped, then the copy deleted, with what a create cut short left. */
    @Override
    public void remove(String id) {
        if (dirs.retire(id)) forgetQuota(layersDir.resolve(id));
        records.delete(id);
        dirs.sweep(id);
    }

    private synchronized void forgetQuota(Path dir) {
        if (quota != null) quota.forget(dir);
    }

    /**
     * {@code .new-}, {@code .removing-} and {@code .apply-} entries in {@code dir}: one read of it. (A partial
     * {@code dir/<id>} without a record that an older version left is not looked for; a create of the id replaces it.)
     */
    @Override
    public java.util.Collection<String> cutShort() {
        return dirs.cutShort();
    }

    @Override
    public Map<String, String> metadata(String id) {
        return Map.of("Dir", layersDir.resolve(id).toString());
    }

    @Override
    public List<StatusEntry> status() {
        StatFs fs = StatFs.ofNearest(home);
        return List.of(
                new StatusEntry("Backing Filesystem", fs.typeName()),
                new StatusEntry("Copy Method", switch (copyMethod) {
                    case REFLINK -> copyMethod == copyStart ? "reflink (FICLONE) where supported" : "reflink (FICLONE)";
                    case COPY_FILE_RANGE -> "copy_file_range";
                    case READ_WRITE, LINK -> "read/write";
                }),
                new StatusEntry("Layers", Integer.toString(records.count())),
                new StatusEntry("Quota", quotaStatus()));
    }

    private String quotaStatus() {
        if (defaultSize != null && defaultSize > 0) return "project quota, default " + Sizes.human(defaultSize);
        String missing = ProjectQuota.missingKernelSupport(StatFs.ofNearest(home));
        return missing == null ? "project quota where the filesystem enables it" : "not supported: " + missing;
    }

    // ---- id maps: a chown copy

    static final Support ID_MAPS = Support.yes("chown copy (every layer is a copy; a layer made with maps gets its parent's owners shifted as it is copied)");

    @Override
    public Support idMapSupport() {
        return ID_MAPS;
    }

    @Override
    public String idMapMethod(String id) {
        return "chown copy";
    }

    @Override
    public void attach(LayerIdMaps idMaps) {
        this.idMaps = idMaps;
    }

    private ApplyOptions withIds(String id, ApplyOptions options) {
        return idMaps == null ? options : options.withIds(IdTranslation.toHost(idMaps.of(id)));
    }

    // ---- mounts: vfs mounts nothing

    @Override
    public Path root(String id) {
        return layersDir.resolve(id);
    }

    // ---- diffs

    /** A copy in {@code dir/.apply-<id>}, under the layer's own size limit when it has one. */
    @Override
    public StagedApply stageApply(String id, String parent) {
        Path dir = layersDir.resolve(id);
        ProjectQuota.Usage limits;
        synchronized (this) {
            limits = quota == null ? null : quota.usage(dir);
        }
        ApplyOptions options = withIds(id, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        if (limits == null) return dirs.stageApply(id, options, null);
        DirectoryStaging s = dirs.stageApply(id, options, p -> quota.set(p, limits.bytesLimit(), limits.inodesLimit()));
        Path staging = s.root();
        return new StagedApply() {
            @Override
            public Path root() {
                return s.root();
            }

            @Override
            public ApplyOptions options() {
                return s.options();
            }

            @Override
            public void commit() {
                s.commit();
                synchronized (VfsStorage.this) { // the limited inode now has the layer's path, and the old one the staging's
                    quota.forget(dir);
                    quota.moved(staging, dir);
                }
            }

            @Override
            public void discard() {
                s.discard();
                synchronized (VfsStorage.this) {
                    quota.forget(staging);
                }
            }
        };
    }

    @Override
    public void discardStaged(String id) {
        dirs.discardApply(id);
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
}
