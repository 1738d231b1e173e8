package dev.strata.driver.btrfs;

import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Trees;
import dev.strata.nativeio.btrfs.BtrfsIoctl;
import dev.strata.nativeio.btrfs.Subvolumes;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The subvolume work, nothing of the contract: a layer is the subvolume {@code subvolumes/<id>}, made there in one
 * ioctl (empty, or a snapshot of its parent), or made in {@code creating/} and moved into place by one rename; an
 * apply goes into a snapshot of the layer in {@code applying/} that one rename exchange swaps in. Every step is O(1)
 * in the layer's size, destroying included (the kernel frees the space in the background).
 */
final class LayerVolumes {
    private final BtrfsLayout layout;

    LayerVolumes(BtrfsLayout layout) {
        this.layout = layout;
        try {
            mkdir(layout.subvolumes(), "rwx--x---"); // moby's 0710
            mkdir(layout.own(), "rwx------");
            mkdir(layout.creating(), "rwx------");
            mkdir(layout.applying(), "rwx------");
            mkdir(layout.removing(), "rwx------");
        } catch (IOException e) {
            throw new StorageException("open", layout.home().toString(), e.toString(), e);
        }
    }

    private static void mkdir(Path dir, String mode) throws IOException {
        if (Files.isDirectory(dir)) return;
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
    }

    /** Whether the layer's subvolume is in place: one statx, no exception when it is not. */
    boolean exists(String id) {
        return isSubvolume(layout.layer(id));
    }

    static boolean isSubvolume(Path p) {
        Stat st = PosixFiles.lstatIfExists(p);
        return st != null && st.isDirectory() && st.ino() == BtrfsIoctl.FIRST_FREE_OBJECTID;
    }

    /** The ids of the layers in place. */
    List<String> ids() {
        List<String> out = new ArrayList<>();
        for (String name : names(layout.subvolumes())) if (exists(name)) out.add(name);
        return out;
    }

    /** Whatever is in a staging directory ({@code creating/}, {@code applying/}), by name. */
    List<String> staged(Path dir) {
        return names(dir);
    }

    /** {@code dir/<id>}: an empty subvolume (mode 0755 whatever the umask) or a writable snapshot of {@code source}. */
    Path make(Path dir, String id, Path source) {
        Path staged = dir.resolve(id);
        if (source == null) {
            Subvolumes.create(dir, id);
            try {
                Files.setPosixFilePermissions(staged, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (IOException e) {
                destroyQuietly(staged);
                throw new StorageException("create", id, "chmod " + staged + ": " + e, e);
            }
        } else {
            Subvolumes.snapshot(source, dir, id, false);
        }
        return staged;
    }

    /** Moves {@code creating/<id>} into place (the layer's commit point); refuses to replace a layer that is there. */
    void publish(String id) {
        PosixFiles.renameat2(null, layout.creating().resolve(id).toString(), null, layout.layer(id).toString(), PosixFiles.RENAME_NOREPLACE);
    }

    /** Swaps {@code applying/<id>} and the layer in one rename: the applied tree becomes the layer, the old one is left there. */
    void exchange(String id) {
        PosixFiles.renameat2(null, layout.applying().resolve(id).toString(), null, layout.layer(id).toString(), PosixFiles.RENAME_EXCHANGE);
    }

    /**
     * Moves the layer to {@code removing/<id>}, out of sight in one rename, before it is destroyed: a destroy goes
     * nested subvolumes first, so one cut short would otherwise leave the layer in place without them. Whether it
     * was there; a grave an earlier remove of the id left in the way is destroyed first (its qgroups to {@code freed}).
     */
    boolean retire(String id, List<Long> freed) {
        Path grave = layout.removing().resolve(id);
        for (int attempt = 0; ; attempt++) {
            int e = PosixFiles.tryRenameat2(layout.layer(id).toString(), grave.toString(), PosixFiles.RENAME_NOREPLACE);
            if (e == 0) return true;
            if (e == Errno.ENOENT) return false;
            if (attempt > 0 || (e != Errno.EEXIST && e != Errno.ENOTEMPTY)) {
                throw new SyscallException("renameat2", layout.layer(id) + " -> " + grave, e);
            }
            freed.addAll(destroy(grave));
        }
    }

    /**
     * Destroys the subvolume at {@code path} and every subvolume nested in it (deepest first), and returns their
     * ids, so that their qgroups can go too. A plain directory there (not a subvolume) is deleted as a tree;
     * nothing there is fine.
     */
    List<Long> destroy(Path path) {
        List<Long> ids = new ArrayList<>();
        Stat st = PosixFiles.lstatIfExists(path);
        if (st == null) return ids;
        if (!st.isDirectory() || st.ino() != BtrfsIoctl.FIRST_FREE_OBJECTID) {
            Trees.delete(path);
            return ids;
        }
        destroyTree(path, ids);
        return ids;
    }

    private static void destroyTree(Path subvolume, List<Long> ids) {
        Subvolumes.Contents c = Subvolumes.contents(subvolume);
        for (Subvolumes.Nested n : c.nested()) destroyTree(subvolume.resolve(n.path()), ids);
        try {
            Subvolumes.destroy(subvolume.getParent(), subvolume.getFileName().toString());
        } catch (SyscallException e) {
            if (e.is(Errno.EPERM)) {
                // Without CAP_SYS_ADMIN (rootless) and without user_subvol_rm_allowed: since Linux 4.18 the owner
                // may rmdir an empty subvolume, as moby and containers/storage fall back to doing. O(files).
                Trees.delete(subvolume);
            } else if (!e.is(Errno.ENOENT)) {
                throw e;
            }
        }
        ids.add(c.id());
    }

    /**
     * Waits (up to 10 s) until the kernel has dropped destroyed subvolumes, which is when their space comes back: a
     * destroy returns at once and the cleaner frees the space after the next commit, which this asks for. Where the
     * root tree may not be read (rootless), it only asks.
     */
    void awaitDropped(List<Long> subvolumeIds) {
        if (subvolumeIds.isEmpty()) return;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try {
            for (long id : subvolumeIds) {
                while (Subvolumes.exists(layout.home(), id) && System.nanoTime() < deadline) {
                    Subvolumes.sync(layout.home());
                    Thread.sleep(10);
                }
            }
        } catch (SyscallException e) {
            if (!e.is(Errno.EPERM)) throw e;
            Subvolumes.sync(layout.home());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** For error paths: the original failure matters more than a second one while undoing. */
    List<Long> destroyQuietly(Path path) {
        try {
            return destroy(path);
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    private static List<String> names(Path dir) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.startsWith(".")) out.add(n);
            }
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new StorageException("list", dir.toString(), e.toString(), e);
        }
        return out;
    }
}
