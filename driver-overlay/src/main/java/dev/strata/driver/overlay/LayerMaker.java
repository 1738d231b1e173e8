package dev.strata.driver.overlay;

import dev.strata.nativeio.Trees;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.RefCounts;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Making and removing layer directories so that a crash never leaves a half-made or half-removed layer that
 * {@code exists} reports: a layer is built under a hidden staging name and renamed into place
 * ({@code RENAME_NOREPLACE}), and removed by renaming it away first. A parent is locked while a child is made on
 * it, so removing it cannot slip in between (and a layer with children is not removed at all).
 */
final class LayerMaker {
    private final Layout layout;
    private final LayerMounts mounts;
    private final IncompleteLayers incomplete;
    private final LayerQuota quota;

    LayerMaker(Layout layout, LayerMounts mounts, IncompleteLayers incomplete, LayerQuota quota) {
        this.layout = layout;
        this.mounts = mounts;
        this.incomplete = incomplete;
        this.quota = quota;
    }

    /** Makes the layer; {@code exists} decides whether a parent is a complete layer. */
    void make(String op, String id, String parent, StorageOpts limits, Predicate<String> exists) {
        if (PosixFiles.lexists(layout.dir(id))) throw new LayerExistsException(op, id);
        if (parent == null) {
            build(op, id, null, limits);
        } else {
            mounts.refs().withLock(parent, () -> {
                if (!exists.test(parent)) throw new ParentUnknownException(op, id, parent);
                build(op, id, parent, limits);
                return null;
            });
        }
    }

    private void build(String op, String id, String parent, StorageOpts limits) {
        List<String> lowers = parent == null ? List.of() : layout.lowerEntriesForChild(parent);
        if (lowers.size() > OverlayMounter.KERNEL_MAX_LOWERS) {
            throw new StorageException(op, id, "max depth exceeded: the layer would have " + lowers.size()
                    + " lower layers, and overlay mounts at most " + OverlayMounter.KERNEL_MAX_LOWERS);
        }
        Path staging = layout.home().resolve(Layout.STAGING_PREFIX + id + "-" + Layout.suffix());
        Path link = null;
        try {
            mkdir(staging, "rwx--x---");
            // Before anything is written: with PROJINHERIT, all the layer's files count against its limit.
            if (limits.any()) quota.set(staging, limits.size(), limits.inodes());
            mkdir(staging.resolve(Layout.DIFF), "rwxr-xr-x");
            String lid = null;
            for (int attempt = 0; lid == null; attempt++) {
                String candidate = Layout.newLinkId();
                try {
                    Files.createSymbolicLink(layout.links().resolve(candidate), Path.of("..", id, Layout.DIFF));
                    lid = candidate;
                    link = layout.links().resolve(candidate);
                } catch (FileAlreadyExistsException e) {
                    if (attempt > 8) throw e;
                }
            }
            Files.write(staging.resolve(Layout.LINK), lid.getBytes(StandardCharsets.US_ASCII));
            if (parent != null) {
                mkdir(staging.resolve(Layout.WORK), "rwx------");
                Files.write(staging.resolve(Layout.LOWER), String.join(":", lowers).getBytes(StandardCharsets.US_ASCII));
                Path committed = layout.dir(parent).resolve(Layout.COMMITTED);
                if (!Files.exists(committed)) {
                    try {
                        Files.createFile(committed, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    } catch (FileAlreadyExistsException ignored) {
                        // a concurrent child committed it
                    }
                }
            }
            try {
                PosixFiles.renameat2(null, staging.toString(), null, layout.dir(id).toString(), PosixFiles.RENAME_NOREPLACE);
            } catch (SyscallException e) {
                if (e.is(Errno.EEXIST) || e.is(Errno.ENOTEMPTY)) throw new LayerExistsException(op, id);
                throw e;
            }
            if (limits.any()) quota.moved(staging, layout.dir(id));
        } catch (IOException | RuntimeException e) {
            if (link != null) deleteQuietly(link);
            if (limits.any()) quota.forget(staging);
            Trees.deleteQuietly(staging);
            if (e instanceof RuntimeException r) throw r;
            throw new StorageException(op, id, e.toString(), e);
        }
    }

    /** Removes a layer (complete or not), unmounting it first; refuses one with children. */
    void remove(String id) {
        RefCounts refs = mounts.refs();
        refs.withLock(id, () -> {
            Path dir = layout.dir(id);
            if (!Files.isDirectory(layout.diff(id), LinkOption.NOFOLLOW_LINKS)) throw new LayerUnknownException("remove", id);
            if (layout.isCommitted(id)) {
                List<String> children = children(id);
                if (!children.isEmpty()) {
                    throw new LayerBusyException("remove", id, "layer has " + children.size() + " child layer(s) ("
                            + String.join(", ", children.subList(0, Math.min(5, children.size())))
                            + (children.size() > 5 ? ", ..." : "") + "); remove them first");
                }
            }
            mounts.unmount(id);
            String lid = readLinkIdQuietly(id);
            Path grave = layout.home().resolve(Layout.REMOVING_PREFIX + id + "-" + Layout.suffix());
            PosixFiles.renameat2(null, dir.toString(), null, grave.toString(), 0);
            if (lid != null) deleteQuietly(layout.links().resolve(lid));
            refs.forget(id);
            incomplete.clear(id);
            quota.forget(dir);
            Trees.delete(grave);
            return null;
        });
    }

    /** Ids of layers whose nearest lower is {@code id}. */
    private List<String> children(String id) {
        String entry = Layout.LINK_DIR + "/" + layout.linkId(id);
        List<String> out = new ArrayList<>();
        for (String other : layout.layerDirs()) {
            Path lower = layout.dir(other).resolve(Layout.LOWER);
            try {
                String s = Files.readString(lower, StandardCharsets.US_ASCII);
                if (s.equals(entry) || s.startsWith(entry + ":")) out.add(other);
            } catch (NoSuchFileException e) {
                // a base layer
            } catch (IOException e) {
                throw new StorageException("remove", lower.toString(), e.toString(), e);
            }
        }
        return out;
    }

    /**
     * After a crash: removes layers whose create or apply did not finish, staging and half-removed directories,
     * and the short links they left.
     */
    void recover() {
        boolean leftovers = false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.home(), ".{staging,removing}-*")) {
            for (Path p : ds) {
                leftovers = true;
                Mounts.unmountAllUnder(p);
                Trees.delete(p);
            }
        } catch (IOException e) {
            throw new StorageException("open", layout.home().toString(), e.toString(), e);
        }
        for (String id : incomplete.abandoned()) {
            if (Files.isDirectory(layout.dir(id))) {
                try {
                    remove(id);
                } catch (LayerBusyException e) {
                    continue; // has children: keep it (and its mark) rather than break them
                }
            }
            incomplete.clear(id);
        }
        if (leftovers) removeDanglingLinks();
    }

    private void removeDanglingLinks() {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.links())) {
            for (Path l : ds) {
                if (!Files.exists(l)) deleteQuietly(l);
            }
        } catch (IOException e) {
            throw new StorageException("open", layout.links().toString(), e.toString(), e);
        }
    }

    private String readLinkIdQuietly(String id) {
        try {
            return layout.linkId(id);
        } catch (StorageException e) {
            return null;
        }
    }

    static void mkdir(Path dir, String perms) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms)));
        } catch (FileAlreadyExistsException ignored) {
            // made concurrently
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort; the next open removes what is left
        }
    }
}
