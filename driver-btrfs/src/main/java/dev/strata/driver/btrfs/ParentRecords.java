package dev.strata.driver.btrfs;

import dev.strata.api.StorageException;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.btrfs.Subvolumes;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Each layer's parent, where btrfs's own note of it will not do: a symlink {@code .btrfs/parents/<id>} whose target
 * is the parent's id ({@code .} for none).
 *
 * <p>btrfs notes where a snapshot came from: a child's parent uuid is its parent's uuid, and stays right for the
 * child's whole life (a layer with children is never applied to, so its uuid does not change, nor removed). A base
 * layer has none. So a create writes no record, as moby's Create keeps none: two journaled writes a create and
 * remove fewer. Only an apply breaks the note (its rename exchange swaps in a snapshot of the layer, whose parent uuid
 * is the old subvolume's), and it records the parent first ({@link #keep}). A layer without a record (made by a
 * create, or by moby) gets one from the note when its parent is first asked for ({@link #adopt}).
 */
final class ParentRecords {
    private static final String NONE = ".";
    private final Path dir;

    ParentRecords(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("open", dir.toString(), e.toString(), e);
        }
    }

    /** One symlink(2); a record left there (by a create a kill cut short) is replaced. */
    void write(String id, String parent) {
        Path f = dir.resolve(id);
        Path target = Path.of(parent == null ? NONE : parent);
        try {
            try {
                Files.createSymbolicLink(f, target);
            } catch (FileAlreadyExistsException stale) {
                PosixFiles.unlinkIfExists(f);
                Files.createSymbolicLink(f, target);
            }
        } catch (IOException e) {
            throw new StorageException("record parent", f.toString(), e.toString(), e);
        }
    }

    /** One statx, no exception when there is no record (the usual case). */
    boolean has(String id) {
        Stat st = PosixFiles.lstatIfExists(dir.resolve(id));
        return st != null && st.isSymlink();
    }

    /**
     * Before an apply swaps a snapshot of the layer in (after which btrfs's note names the old subvolume): records the
     * parent, if not recorded yet. {@code hint} (the parent the apply was given) is checked against btrfs's note;
     * when it is not the parent, every layer without a record is adopted.
     */
    void keep(String id, String hint, Function<String, Path> layerPath, Supplier<List<String>> ids) {
        if (has(id)) return;
        UUID parentUuid = Subvolumes.info(layerPath.apply(id)).parentUuid();
        if (parentUuid == null) {
            write(id, null);
        } else if (hint != null && LayerVolumes.isSubvolume(layerPath.apply(hint))
                && parentUuid.equals(Subvolumes.info(layerPath.apply(hint)).uuid())) {
            write(id, hint);
        } else {
            adopt(ids.get(), layerPath);
        }
    }

    /** The parent of {@code id}, null for none or for no record. */
    String parent(String id) {
        try {
            String t = Files.readSymbolicLink(dir.resolve(id)).toString();
            return t.equals(NONE) ? null : t;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException("read parent", dir.resolve(id).toString(), e.toString(), e);
        }
    }

    void delete(String id) {
        PosixFiles.unlinkIfExists(dir.resolve(id));
    }

    /** Deletes the records of ids that fail {@code keep}: what a create cut short before its subvolume left. */
    void retainOnly(Predicate<String> keep) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String id = p.getFileName().toString();
                if (!id.startsWith(".") && !keep.test(id)) Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException e) {
            // no records
        } catch (IOException e) {
            throw new StorageException("sweep parents", dir.toString(), e.toString(), e);
        }
    }

    /**
     * Records a parent for every layer in {@code ids} that has none (a create made it, or moby): the layer whose uuid
     * is its parent uuid, if that is a layer here. Costs one GET_SUBVOL_INFO per layer, and only when some layer
     * lacks a record.
     */
    void adopt(List<String> ids, Function<String, Path> layerPath) {
        List<String> orphans = ids.stream().filter(id -> !has(id)).toList();
        if (orphans.isEmpty()) return;
        Map<UUID, String> byUuid = new HashMap<>();
        Map<String, UUID> parentUuid = new HashMap<>();
        for (String id : ids) {
            Subvolumes.Info info = Subvolumes.info(layerPath.apply(id));
            byUuid.put(info.uuid(), id);
            if (info.parentUuid() != null) parentUuid.put(id, info.parentUuid());
        }
        for (String id : orphans) {
            UUID p = parentUuid.get(id);
            write(id, p == null ? null : byUuid.get(p));
        }
    }
}
