package dev.strata.kit;

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
 * <p>Kept crash-safe as a superset: an entry is made before its child's storage, and a removed child's entry is
 * left to go stale, so a crash at any point leaves at most an entry too many, never one too few. The kit checks
 * each entry against the layer's real state (it exists, and its parent is this one) when it reads a parent's
 * children, and drops the stale ones then ({@link #remove}): a remove costs no index write.
 *
 * <p>Entries are hard links of one empty file ({@code .entry}): a new entry is a name, not an inode, which on ext4
 * without a journal (where allocating an inode scans for one not deleted recently) was a quarter of a create's time.
 * Only the names are ever read, so an entry of its own (a home from before, or where a link is refused) is the same.
 *
 * <p>A home made before the index (or by another engine, such as dockerd's own overlay2 dir) has none: the first
 * operation that needs it builds it from the storage once, under the kit's lock, and writes {@code .built}.
 * Children that another engine makes afterwards in the same home are not seen (moby checks none at all).
 */
final class ChildIndex {
    private static final String BUILT = ".built", SHARED = ".entry";
    private static final int EEXIST = 17, EMLINK = 31;
    private final Path dir;
    private final Path shared;
    private volatile boolean built;

    ChildIndex(Path dir) {
        this.dir = dir;
        this.shared = dir.resolve(SHARED);
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
            Files.createDirectories(dir);
            Files.createFile(dir.resolve(BUILT));
        } catch (FileAlreadyExistsException ok) {
            // built by a concurrent process as well
        } catch (IOException e) {
            throw new StorageException("index", dir.toString(), e.toString(), e);
        }
        built = true;
    }

    /** Records a child (its entry may be there already, left stale by an earlier child of that id). */
    void add(String parent, String child) {
        Path entry = dir.resolve(parent).resolve(child);
        int e = LockFiles.link(shared, entry);
        if (e == 0 || e == EEXIST) return;
        // The first entry of the home or of a parent, or a shared file with all its links: this entry gets a file
        // of its own (and its directory), and the next one a shared file again.
        if (e == EMLINK) LockFiles.unlink(shared); // its entries keep it; the next entry makes a fresh one
        else if (!LockFiles.exists(shared)) LockFiles.touch(shared);
        LockFiles.touch(entry);
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
        LockFiles.unlink(dir.resolve(parent).resolve(child));
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
