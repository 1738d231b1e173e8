package dev.strata.driver.btrfs;

import dev.strata.api.StorageException;
import dev.strata.nativeio.PosixFiles;
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

/**
 * Each layer's parent, as a symlink {@code .btrfs/parents/<id>} whose target is the parent's id ({@code .} for
 * none): one metadata write, which btrfs commits with the snapshot that follows it. Written before the layer's
 * subvolume is made and deleted after it is destroyed, so a layer of ours always has one.
 *
 * <p>moby keeps no parents. A layer moby made has no record here; {@link #adopt} gives it one from btrfs's own
 * note of where a snapshot came from (its parent uuid), so moby's layers are layers here too.
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

    boolean has(String id) {
        return Files.isSymbolicLink(dir.resolve(id));
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
     * Records a parent for every layer in {@code ids} that has none (moby made it): the layer whose uuid is its
     * parent uuid, if that is a layer here. Costs one GET_SUBVOL_INFO per layer, and only when some layer lacks a
     * record.
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
