package dev.strata.kit;

import dev.strata.nativeio.PosixFiles;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which layers were made on which: {@code <dir>/<parent>/<child>}, one empty file per child. It makes the children
 * check of remove and applyDiff cost the number of children, not the number of layers.
 *
 * <p>It lives in the run directory (a tmpfs), as the marks do: it is a cache of what the storage records (each
 * layer's parent), so a reboot may lose it, and the first operation after one builds it again. An entry, written by
 * every create with a parent, then costs no journaled write on the layers' filesystem (on btrfs, a file made and
 * committed with the snapshot). A home whose index was kept in {@code <home>/.strata/children} (older Strata) has
 * that directory deleted when the index is built here.
 *
 * <p>Kept crash-safe as a superset: an entry is made before its child's storage, and removed after the child's
 * storage is gone, so a crash at any point leaves at most an entry too many, never one too few. The kit checks each
 * entry against the layer's real state (it exists, and its parent is this one) when it reads a parent's children,
 * and drops the stale ones then ({@link #remove}). So the index holds the live children and what crashes left: a
 * base that thousands of containers were made on and removed from holds none of them, and its own remove reads no
 * more than its live children.
 *
 * <p>The run directory is tied to the home's identity ({@link HomeIdentity}): an index left by an earlier home at the
 * same path, {@code .built} included, is deleted before it could be read as this home's.
 *
 * <p>A home made before the index (or by another engine, such as dockerd's own overlay2 dir) has none: the first
 * operation that needs it builds it from the storage once, under the kit's lock, and writes {@code .built}.
 * Children that another engine makes afterwards in the same home are not seen (moby checks none at all).
 */
final class ChildIndex {
    private static final String BUILT = ".built";
    private final Path dir, legacy;
    private volatile boolean built;

    /** @param legacy where an older Strata kept the index, deleted when this one is built */
    ChildIndex(Path dir, Path legacy) {
        this.dir = dir;
        this.legacy = legacy;
    }

    /** Builds the index from {@code parents} (id to parent, null for none) unless it was built before. */
    void ensureBuilt(java.util.function.Supplier<Map<String, String>> parents) {
        if (built) return;
        if (Files.exists(dir.resolve(BUILT))) {
            built = true;
            return;
        }
        for (Map.Entry<String, String> e : parents.get().entrySet()) {
            if (e.getValue() != null) add(e.getValue(), e.getKey());
        }
        try {
            if (Files.isDirectory(legacy)) deleteTree(legacy);
            Files.createDirectories(dir);
            Files.createFile(dir.resolve(BUILT));
        } catch (FileAlreadyExistsException ok) {
            // built by a concurrent process as well
        } catch (IOException e) {
            throw new StorageException("index", dir.toString(), e.toString(), e);
        }
        built = true;
    }

    private static void deleteTree(Path top) throws IOException {
        try (var paths = Files.walk(top)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** Records a child (its entry may be there already, left stale by an earlier child of that id). */
    void add(String parent, String child) {
        LockFiles.touch(dir.resolve(parent).resolve(child));
    }

    /** Whether {@code parent} has entries (stale ones maybe) or an emptied directory of them. One statx. */
    boolean has(String parent) {
        return LockFiles.exists(dir.resolve(parent));
    }

    /** The children recorded for {@code parent}, stale ones included. */
    List<String> children(String parent) {
        Path p = dir.resolve(parent);
        if (!LockFiles.exists(p)) return List.of();
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
            for (Path c : ds) out.add(c.getFileName().toString());
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new StorageException("index", p.toString(), e.toString(), e);
        }
        out.sort(null);
        return out;
    }

    /** Drops one entry. The parent's directory stays (empty) until {@link #drop}: its next child costs one create. */
    void remove(String parent, String child) {
        PosixFiles.unlinkIfExists(dir.resolve(parent).resolve(child));
    }

    /** Forgets every entry of a parent that is gone. */
    void drop(String parent) {
        Path p = dir.resolve(parent);
        if (!LockFiles.exists(p)) return;
        for (String c : children(parent)) remove(parent, c);
        try {
            Files.deleteIfExists(p);
        } catch (DirectoryNotEmptyException raced) {
            // a child was recorded meanwhile; the kit's lock makes that impossible, but never lose an entry
        } catch (IOException e) {
            throw new StorageException("index", p.toString(), e.toString(), e);
        }
    }
}
