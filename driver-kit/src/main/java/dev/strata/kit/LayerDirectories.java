package dev.strata.kit;

import dev.strata.api.LayerExistsException;
import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Layers that are each one directory, {@code <dir>/<id>} (vfs's copies), made and removed so that no partial
 * {@code <id>} is ever there, whatever is cut short and whether or not the kit's marks survive (they live in the run
 * directory, which a reboot or the stale sweep takes): a create fills {@code .new-<id>} and renames it into place
 * ({@link #publish}, {@code RENAME_NOREPLACE}), a remove renames the layer to {@code .removing-<id>} before deleting
 * it ({@link #retire}), an apply makes everything it stages in {@code .apply-<id>} ({@link DirectoryStaging}). Each
 * leftover is a hidden entry that names its id and only it (an id never starts with '.'), so one read of {@code <dir>}
 * finds them all ({@link #cutShort}), and a bare {@code <id>} is
 * never guessed to be a leftover by looking: only a create of that id, which the kit made sure is free, may replace
 * one ({@link #publishReplacing}).
 */
public final class LayerDirectories {
    /** The prefixes of what a create, a remove and an apply stage beside the layers ({@code .new-} is overlay's too). */
    public static final String NEW = ".new-", REMOVING = ".removing-", APPLY = ".apply-";
    private static final java.nio.file.attribute.FileAttribute<?> PRIVATE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private final Path dir;

    public LayerDirectories(Path dir) {
        this.dir = dir;
    }

    public Path layer(String id) {
        return dir.resolve(id);
    }

    private Path newDir(String id) {
        return dir.resolve(NEW + id);
    }

    private Path grave(String id) {
        return dir.resolve(REMOVING + id);
    }

    /**
     * {@code .apply-<id>}: the directory of an apply of {@code id}, which holds all it stages ({@link DirectoryStaging});
     * a driver that stages more for an apply (a mount of the copy) makes it there, so the same read finds it.
     */
    public Path applyDir(String id) {
        return dir.resolve(APPLY + id);
    }

    /**
     * An empty private (0700) {@code .new-<id>} to fill, after sweeping what a create of the id cut short left there;
     * the fill gives it the layer's own mode. The kit made sure the id is free, so nothing else uses that name.
     */
    public Path stage(String id) {
        Path staging = newDir(id);
        if (PosixFiles.lexists(staging)) Trees.delete(staging); // a statx, not Trees's open of the whole dir
        try {
            Files.createDirectory(staging, PRIVATE);
        } catch (IOException e) {
            throw new StorageException("create", staging.toString(), e.toString(), e);
        }
        return staging;
    }

    /** Renames the filled {@code .new-<id>} into place: from here on {@code <id>} is whole. Refuses to replace one. */
    public void publish(String op, String id) {
        try {
            PosixFiles.renameat2(null, newDir(id).toString(), null, layer(id).toString(), PosixFiles.RENAME_NOREPLACE);
        } catch (SyscallException e) {
            if (e.is(Errno.EEXIST) || e.is(Errno.ENOTEMPTY)) throw new LayerExistsException(op, id);
            throw e;
        }
    }

    /**
     * As {@link #publish}, but a {@code <id>} in the way is replaced: for a storage to which one without its record is
     * no layer (what a create or remove of an older version cut short), once the kit has made sure the id is free.
     */
    public void publishReplacing(String op, String id) {
        try {
            publish(op, id);
        } catch (LayerExistsException stray) {
            retire(id);
            Trees.delete(grave(id));
            publish(op, id);
        }
    }

    /** Drops {@code .new-<id>}: a create that failed before {@link #publish}. */
    public void unstage(String id) {
        Trees.deleteQuietly(newDir(id));
    }

    /**
     * Moves the layer's directory out of the way ({@code .removing-<id>}), so that from here on there is no
     * {@code <id>}, partial or not. Whether it was there. {@link #sweep} then deletes it.
     */
    public boolean retire(String id) {
        Path grave = grave(id);
        for (int attempt = 0; ; attempt++) {
            int e = PosixFiles.tryRenameat2(layer(id).toString(), grave.toString(), PosixFiles.RENAME_NOREPLACE);
            if (e == 0) return true;
            if (e == Errno.ENOENT) return false;
            if (attempt > 0 || (e != Errno.EEXIST && e != Errno.ENOTEMPTY)) {
                throw new SyscallException("renameat2", layer(id) + " -> " + grave, e);
            }
            Trees.delete(grave); // an earlier remove of the id, cut short, left it
        }
    }

    /** Deletes what a create or remove of {@code id} left beside the layers (never {@code <id>} itself). */
    public void sweep(String id) {
        for (Path p : new Path[]{grave(id), newDir(id)}) if (PosixFiles.lexists(p)) Trees.delete(p);
    }

    /** A staged apply of the layer {@code <id>}: see {@link DirectoryStaging#stage(Path, Path, ApplyOptions, Consumer)}. */
    public DirectoryStaging stageApply(String id, ApplyOptions options, Consumer<Path> prepare) {
        return stageApply(id, layer(id), options, prepare);
    }

    /** As above, for a layer whose content is {@code content} (overlay's {@code <id>/diff}), on the same filesystem. */
    public DirectoryStaging stageApply(String id, Path content, ApplyOptions options, Consumer<Path> prepare) {
        return DirectoryStaging.stage(content, applyDir(id), options, prepare);
    }

    /** {@link DirectoryStaging#discard} for {@code id}: what an apply cut short left; puts the layer back if it was aside. */
    public void discardApply(String id) {
        discardApply(id, layer(id));
    }

    /** As above, for a layer whose content is {@code content}. */
    public void discardApply(String id, Path content) {
        DirectoryStaging.discard(content, applyDir(id));
    }

    /**
     * The ids named by a {@code .new-}, {@code .removing-} or {@code .apply-} entry: what a create, remove or apply
     * cut short may have left, for {@link LayerStorage#cutShort}. One read of {@code <dir>}.
     */
    public Set<String> cutShort() {
        Set<String> ids = new LinkedHashSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                String id = null;
                if (name.startsWith(NEW)) id = name.substring(NEW.length());
                else if (name.startsWith(REMOVING)) id = name.substring(REMOVING.length());
                else if (name.startsWith(APPLY)) id = name.substring(APPLY.length());
                if (id != null && !id.isEmpty()) ids.add(id);
            }
        } catch (NoSuchFileException none) {
            return ids;
        } catch (IOException e) {
            throw new StorageException("recover", dir.toString(), e.toString(), e);
        }
        return ids;
    }
}
