package dev.strata.driver.overlay;

import dev.strata.api.IdMaps;
import dev.strata.api.LayerExistsException;
import dev.strata.api.StorageException;
import dev.strata.kit.NewLayer;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;

/**
 * Making and removing layer directories so that no state but "whole" and "gone" is ever visible: a layer is built
 * under {@code .new-<id>} beside the layers and renamed into place ({@code RENAME_NOREPLACE}: the commit point), and
 * removed by renaming it to {@code .staging/removing/<id>} first. What a crash leaves in either place (or in
 * {@code .staging/new/<id>}, where older versions staged creates) is found by the id, so {@link #remove} of the id
 * (which the kit calls for a create or remove cut short) sweeps it.
 */
final class LayerMaker {
    private final Layout layout;
    private final LayerQuota quota;
    private final OverlayOptions options;

    LayerMaker(Layout layout, LayerQuota quota, OverlayOptions options) {
        this.layout = layout;
        this.quota = quota;
        this.options = options;
    }

    void make(NewLayer layer) {
        String op = layer.operation(), id = layer.id(), parent = layer.parent();
        StorageOpts limits = StorageOpts.parse(op, id, layer.options(), layer.readWrite());
        if (layer.readWrite()) limits = limits.withDefaults(options.defaultSize(), options.defaultInodes());
        if (limits.any()) quota.require(op, id);
        ChildLower lower = parent == null ? null : childLower(parent);
        if (lower != null && lower.depth() > OverlayMounter.KERNEL_MAX_LOWERS) {
            throw new StorageException(op, id, "max depth exceeded: the layer would have " + lower.depth()
                    + " lower layers, and overlay mounts at most " + OverlayMounter.KERNEL_MAX_LOWERS);
        }
        Path staging = layout.newDir(id);
        Path link = null;
        try {
            makeStaging(staging);
            // Before anything is written: with PROJINHERIT, all the layer's files count against its limit.
            if (limits.any()) quota.set(staging, limits.size(), limits.inodes());
            mkdir(staging.resolve(Layout.DIFF), "rwxr-xr-x");
            IdMaps maps = layer.options().idMaps();
            if (!maps.isNone()) {
                // As moby's overlay2 under --userns-remap: the upper holds host ids, its root owned by the container's
                // root, and the container's root group may pass through the layer dir (0710) to the mount; the
                // container's runtime sets its root up from inside the user namespace.
                PosixFiles.fchownat(null, staging.resolve(Layout.DIFF).toString(), maps.rootUid(), maps.rootGid(), 0);
                PosixFiles.fchownat(null, staging.toString(), -1, maps.rootGid(), 0);
                passable(layout.home());
            }
            if (!layer.readWrite()) { // a read-write layer is linked when it becomes a parent (Layout)
                String lid = newLink(id);
                link = layout.links().resolve(lid);
                Files.write(staging.resolve(Layout.LINK), lid.getBytes(StandardCharsets.US_ASCII));
            }
            if (parent != null) {
                mkdir(staging.resolve(Layout.WORK), "rwx------");
                if (!maps.isNone()) PosixFiles.fchownat(null, staging.resolve(Layout.WORK).toString(), maps.rootUid(), maps.rootGid(), 0);
                writeLower(staging.resolve(Layout.LOWER), parent, lower, limits.any());
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

    /** A new short link {@code l/<LID>} to the layer's diff dir; its LID. */
    private String newLink(String id) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String lid = Layout.newLinkId();
            try {
                Files.createSymbolicLink(layout.links().resolve(lid), Path.of("..", id, Layout.DIFF));
                return lid;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 8) throw e;
            }
        }
    }

    /**
     * The layer's LID, linking it first if it has none (a read-write layer becoming a parent or shown read-only). The LID is written to
     * {@code .link-pending} before its short link is made and renamed to {@code link} after, so a linking cut short
     * at any step is finished by the next one (same LID, its short link kept) or swept with the layer.
     */
    String linkOf(String parent) {
        Path dir = layout.dir(parent);
        String lid = Layout.linkIdIn(dir);
        if (lid != null) return lid;
        synchronized (this) { // two children of one new parent at once
            try {
                lid = Layout.linkIdIn(dir);
                if (lid != null) return lid;
                if (!PosixFiles.lexists(layout.diff(parent))) throw new StorageException("create", parent, "parent layer does not exist");
                Path pending = dir.resolve(Layout.LINK_PENDING);
                Path target = Path.of("..", parent, Layout.DIFF);
                lid = pendingLid(pending);
                for (int attempt = 0; ; attempt++) {
                    if (lid == null) {
                        lid = Layout.newLinkId();
                        Files.write(pending, lid.getBytes(StandardCharsets.US_ASCII));
                    }
                    try {
                        Files.createSymbolicLink(layout.links().resolve(lid), target);
                        break;
                    } catch (FileAlreadyExistsException e) {
                        if (target.equals(Files.readSymbolicLink(layout.links().resolve(lid)))) break; // made before a crash
                        if (attempt > 8) throw e;
                        lid = null;
                    }
                }
                PosixFiles.renameat2(null, pending.toString(), null, dir.resolve(Layout.LINK).toString(), PosixFiles.RENAME_NOREPLACE);
                return lid;
            } catch (IOException e) {
                throw new StorageException("link", parent, e.toString(), e);
            }
        }
    }

    /**
     * Makes the directory a layer is built in. One there already is what a lost create of this id left (creates of
     * one id run under the home lock): mkdir's EEXIST says so, and it is swept and made anew.
     */
    private void makeStaging(Path staging) throws IOException {
        FileAttribute<?> mode = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x---"));
        try {
            Files.createDirectory(staging, mode);
        } catch (FileAlreadyExistsException lost) {
            sweep(staging);
            Files.createDirectory(staging, mode);
        } catch (NoSuchFileException e) {
            Files.createDirectories(staging.getParent());
            Files.createDirectory(staging, mode);
        }
    }

    /** A child's lower file: its bytes, its number of entries, and whether the parent's {@code .child-lower} holds it. */
    private record ChildLower(byte[] content, int depth, boolean shared) {}

    /**
     * The lower file a child of {@code parent} gets. A parent that has children has it in {@code .child-lower},
     * written whole from its {@code link} and {@code lower} (renamed into place), which are written once when the
     * parent is made (or linked, {@link #linkOf}) and never after, by Strata or moby: so that file is read
     * instead of those two, if it is well-formed (not a file a crash on an unsynced filesystem emptied or filled
     * with another file's blocks) and its first entry is the short link to this parent's diff (one readlink). Anything
     * else, and a parent without children, gets the lower computed from {@code link} and {@code lower}.
     */
    private ChildLower childLower(String parent) {
        Path shared = layout.dir(parent).resolve(Layout.CHILD_LOWER);
        byte[] there;
        try {
            there = PosixFiles.readSmall(shared, Layout.MAX_LOWER_FILE);
        } catch (SyscallException unreadable) {
            there = null;
        }
        int depth = there == null ? -1 : Layout.lowerEntryCount(there);
        if (depth > 0 && namesParent(there, parent)) return new ChildLower(there, depth, true);
        List<String> lowers = layout.lowerEntriesForChild(parent, linkOf(parent));
        return new ChildLower(String.join(":", lowers).getBytes(StandardCharsets.US_ASCII), lowers.size(), false);
    }

    /** Whether a lower file's first entry is a short link to {@code parent}'s diff dir. */
    private boolean namesParent(byte[] lowerFile, String parent) {
        String first = layout.linkString(new String(lowerFile, 0, Layout.LOWER_ENTRY_LENGTH, StandardCharsets.US_ASCII));
        try {
            return PosixFiles.readlinkat(null, first).equals("../" + parent + "/" + Layout.DIFF);
        } catch (SyscallException gone) {
            return false;
        }
    }

    /**
     * A child's {@code lower} file. Every child of one parent has the same one, so it is a hard link to the parent's
     * {@code .child-lower} (made with the first child): a child then costs no inode and no data block for it, and
     * moby reads a hard link as the file it is. Files of its own where a link cannot go: a layer under a project
     * quota (the kernel refuses links across project ids, EXDEV), a parent whose shared file says something else.
     * The link does change the parent's inode (nlink, ctime), so the next sync (an overlay unmount's) writes the
     * parent's inode-table block: one block a child. A fast symlink to the file would not, but costs an inode, and
     * on ext4 without a journal each new inode scans past every one freed in the last minute: measured (issue 11),
     * the symlink made Prepare's kernel time ~60-110 µs longer (symlinkat costs a mkdir, linkat a fifth of one)
     * while the unmount wrote one request fewer a round, with no wall-clock gain.
     */
    private void writeLower(Path lower, String parent, ChildLower content, boolean quota) throws IOException {
        if (!quota) {
            Path shared = layout.dir(parent).resolve(Layout.CHILD_LOWER);
            boolean same = content.shared();
            if (!same) {
                try {
                    same = Arrays.equals(makeShared(shared, content.content()), content.content());
                } catch (SyscallException unreadable) {
                    same = false;
                }
            }
            if (same) {
                try {
                    PosixFiles.linkat(null, shared.toString(), null, lower.toString(), 0);
                    return;
                } catch (SyscallException e) {
                    if (!e.is(Errno.EXDEV) && !e.is(Errno.EMLINK)) throw e;
                }
            }
        }
        Files.write(lower, content.content());
    }

    /** Writes a parent's shared lower file whole (renamed into place); what is there after. */
    private synchronized byte[] makeShared(Path shared, byte[] content) throws IOException {
        Path tmp = shared.resolveSibling(Layout.CHILD_LOWER + ".new");
        Files.write(tmp, content);
        int e = PosixFiles.tryRenameat2(tmp.toString(), shared.toString(), PosixFiles.RENAME_NOREPLACE);
        if (e == Errno.EEXIST) {
            Files.deleteIfExists(tmp);
            return PosixFiles.readSmall(shared, content.length + 1);
        }
        if (e != 0) throw new SyscallException("renameat2", tmp + " -> " + shared, e);
        return content;
    }

    private static String pendingLid(Path pending) {
        try {
            return Layout.readLid(pending);
        } catch (StorageException empty) {
            return null; // cut short while it was written: no short link was made with it
        }
    }

    /**
     * Removes whatever is stored for {@code id}: the layer in place (renamed away first, then deleted), and what a
     * create or remove cut short left in {@code .staging}, short links included. Not being there is not an error.
     */
    void remove(String id) {
        Path dir = layout.dir(id), grave = layout.removingDir(id);
        if (renameAway(dir, grave)) quota.forget(dir);
        sweep(grave);
        sweep(layout.newDir(id));
        sweep(layout.oldNewDir(id));
    }

    /** Renames the layer's directory to its grave; false when there is none. */
    private boolean renameAway(Path dir, Path grave) {
        for (int attempt = 0; ; attempt++) {
            int e = PosixFiles.tryRenameat2(dir.toString(), grave.toString(), PosixFiles.RENAME_NOREPLACE);
            if (e == 0) return true;
            if (e == Errno.ENOENT && !PosixFiles.lexists(dir)) return false; // no layer (a half-made one, say)
            if (attempt > 0) throw new SyscallException("renameat2", dir + " -> " + grave, e);
            if (e == Errno.ENOENT) { // the first remove here: no .staging/removing yet
                try {
                    Files.createDirectories(grave.getParent());
                } catch (IOException x) {
                    throw new StorageException("remove", grave.getParent().toString(), x.toString(), x);
                }
            } else if (e == Errno.EEXIST || e == Errno.ENOTEMPTY) {
                sweep(grave); // a grave from an earlier remove, cut short, is in the way
            } else {
                throw new SyscallException("renameat2", dir + " -> " + grave, e);
            }
        }
    }

    /**
     * Deletes a layer directory that is out of place, with its short link and one a linking cut short made (LIDs are
     * never reused: they are its alone).
     */
    private void sweep(Path layerDir) {
        if (!PosixFiles.lexists(layerDir)) return;
        for (String lidFile : List.of(Layout.LINK, Layout.LINK_PENDING)) {
            try {
                String lid = Layout.readLid(layerDir.resolve(lidFile));
                if (lid != null) deleteQuietly(layout.links().resolve(lid));
            } catch (StorageException empty) {
                // cut short before the LID was written: no short link was made
            }
        }
        quota.forget(layerDir);
        Trees.delete(layerDir);
    }

    /**
     * Lets anyone pass through the home (0710 to 0711), so that a container's root under id maps reaches its
     * layer's mount; what is inside stays closed (layer dirs are 0710, their group the mapped root's).
     */
    private static void passable(Path home) throws IOException {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> p = Files.getPosixFilePermissions(home);
        if (p.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) Files.setPosixFilePermissions(home, p);
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
            // a dangling short link harms nothing
        }
    }
}
