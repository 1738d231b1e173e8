package dev.strata.driver.aufs;

import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.StorageException;
import dev.strata.kit.AtomicFiles;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Docker's aufs layout and its parents bookkeeping:
 * <pre>
 *   layers/&lt;id&gt;   the ancestors, one id a line, nearest first; empty for a base layer
 *   diff/&lt;id&gt;/    the layer's own files, aufs whiteouts included (the rw branch when mounted)
 *   mnt/&lt;id&gt;/     the union mount point of a layer that has parents
 * </pre>
 * The top directories are 0710 and the per-layer ones 0755, as moby makes them.
 */
final class AufsLayout {
    /** aufs's own bookkeeping in a branch: pseudo-links, the whiteout base, orphans. Never layer content. */
    static final Set<String> AUFS_META = Set.of(".wh..wh.plnk", ".wh..wh.aufs", ".wh..wh.orph");

    final Path home;
    final Path diffRoot;
    final Path mntRoot;
    final Path layersRoot;

    AufsLayout(Path home) {
        this.home = home.toAbsolutePath().normalize();
        this.diffRoot = this.home.resolve("diff");
        this.mntRoot = this.home.resolve("mnt");
        this.layersRoot = this.home.resolve("layers");
    }

    /** Makes home, mnt, diff and layers (0710) when missing. */
    void createRoots() {
        for (Path p : List.of(home, mntRoot, diffRoot, layersRoot)) mkdir(p, "rwx--x---");
    }

    Path diff(String id) {
        return diffRoot.resolve(id);
    }

    Path mnt(String id) {
        return mntRoot.resolve(id);
    }

    Path layersFile(String id) {
        return layersRoot.resolve(id);
    }

    /** Whether {@code layers/<id>} exists: the layer is registered (it may still be incomplete). */
    boolean registered(String id) {
        return Files.exists(layersFile(id), LinkOption.NOFOLLOW_LINKS);
    }

    /** Makes diff/&lt;id&gt; and mnt/&lt;id&gt; (0755). */
    void createLayerDirs(String id) {
        mkdir(diff(id), "rwxr-xr-x");
        mkdir(mnt(id), "rwxr-xr-x");
    }

    /** Writes layers/&lt;id&gt;: the parent, then the parent's own ancestors (moby's Create). */
    void writeParents(String id, List<String> ancestors) {
        StringBuilder b = new StringBuilder();
        for (String a : ancestors) b.append(a).append('\n');
        AtomicFiles.write(layersFile(id), b.toString());
    }

    /** The ancestors of a layer, nearest first. Every line must be a layer id: the paths are built from them. */
    List<String> parents(String id) {
        Path f = layersFile(id);
        List<String> lines;
        try {
            lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new LayerUnknownException("read parents", id);
        } catch (IOException e) {
            throw new StorageException("read parents", f, e.toString(), e);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isEmpty()) continue;
            try {
                out.add(LayerIds.check("read parents", line));
            } catch (InvalidLayerIdException e) {
                throw new StorageException("read parents", f, "line " + (i + 1) + " is not a layer id: " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** The diff directories of a layer's ancestors, nearest first: its read-only branches. */
    List<Path> parentDiffs(List<String> parents) {
        return parents.stream().map(this::diff).toList();
    }

    /** Every registered id: the files of layers/ (moby's loadIds), without our temporary files. */
    List<String> registeredIds() {
        List<String> ids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layersRoot)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.startsWith(".") && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) ids.add(name);
            }
        } catch (NoSuchFileException e) {
            return ids;
        } catch (IOException e) {
            throw new StorageException("list layers", layersRoot, e.toString(), e);
        }
        return ids;
    }

    /**
     * The names in diff/ and mnt/ that are not registered: what a create cut short before its layers file, or a remove
     * cut short after deleting it, left; and moby's {@code <id>-removing}, which is such a name too unless a layer has
     * it. Hidden names (the kit's staging, {@code .new-}, {@code .apply-}) are not ids and are left out.
     */
    Set<String> unregistered() {
        Set<String> layers = new HashSet<>(registeredIds()), out = new TreeSet<>();
        for (Path root : List.of(diffRoot, mntRoot)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
                for (Path p : ds) {
                    String name = p.getFileName().toString();
                    if (!name.startsWith(".") && !layers.contains(name)) out.add(name);
                }
            } catch (NoSuchFileException e) {
                // not made yet: nothing there
            } catch (IOException e) {
                throw new StorageException("recover", root, e.toString(), e);
            }
        }
        return out;
    }

    /** Unmounts whatever is mounted at or below {@code dir}, then deletes it without following symlinks. */
    static void removeAll(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        Mounts.unmountAllUnder(dir);
        Trees.delete(dir);
    }

    /**
     * The size of a diff directory as moby's directory.Size counts it: every non-directory's size, each inode
     * once. aufs's own {@code .wh..wh.*} bookkeeping is not layer content and is left out.
     */
    long size(String id) {
        return Trees.size(diff(id), AUFS_META);
    }

    private static void mkdir(Path p, String perms) {
        try {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) return;
            Files.createDirectories(p);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        } catch (IOException e) {
            throw new StorageException("mkdir", p, e.toString(), e);
        }
    }
}
