package dev.strata.driver.overlay;

import dev.strata.nativeio.Trees;
import dev.strata.api.RefCounts;
import dev.strata.api.RunDirectory;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.MountRoots;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * get and put: reference counts ({@link RefCounts}, kept in the driver's {@link RunDirectory}) around the overlay mount
 * of a layer at its {@code merged} dir. The first get mounts, the last put unmounts and removes {@code merged} (as
 * moby does, so copies of the mount in other mount namespaces go too); a failed mount takes no reference. A base
 * layer is not mounted (get returns its diff dir, as in moby) but its references are counted all the same.
 */
final class LayerMounts {
    private final Layout layout;
    private final OverlayMounter mounter;
    private final RefCounts refs;
    private final boolean volatileMounts;

    LayerMounts(Layout layout, OverlayMounter mounter, boolean volatileMounts) {
        this.layout = layout;
        this.mounter = mounter;
        this.volatileMounts = volatileMounts;
        this.refs = new RefCounts(RunDirectory.forHome(layout.home()).resolve("refs"), this::isMountedOrBase);
    }

    /** The counts (and their per-id locks), in the driver's {@link RunDirectory}. */
    RefCounts refs() {
        return refs;
    }

    /** Takes a reference; mounts on the first. The layer must exist. */
    Path get(String id, String mountLabel) {
        RefCounts refs = refs();
        List<String> lowers = layout.lowerEntries(id);
        if (lowers.isEmpty()) {
            refs.acquire(id, () -> { });
            return layout.diff(id);
        }
        refs.acquire(id, () -> mount(id, lowers, mountLabel));
        return layout.merged(id);
    }

    /** Drops a reference; unmounts on the last. */
    void put(String id) {
        refs().release(id, () -> unmount(id));
    }

    int references(String id) {
        return refs().count(id);
    }

    private void mount(String id, List<String> lowerEntries, String mountLabel) {
        Path merged = layout.merged(id);
        try {
            Files.createDirectory(merged, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException ignored) {
            // left by an earlier mount that was not put
        } catch (IOException e) {
            throw new StorageException("get", merged.toString(), e.toString(), e);
        }
        // A layer with a child is mounted read-only, its own diff the uppermost lower (moby's "committed").
        boolean readOnly = layout.isCommitted(id);
        List<Path> lowers = new ArrayList<>(lowerEntries.size() + 1);
        if (readOnly) lowers.add(layout.diff(id));
        for (String e : lowerEntries) lowers.add(layout.linkPath(e));
        try {
            if (!readOnly && volatileMounts) clearVolatileMark(id);
            mounter.mount(merged, lowers, readOnly ? null : layout.diff(id), readOnly ? null : layout.work(id), mountLabel);
        } catch (RuntimeException e) {
            removeMountPoint(merged);
            throw e instanceof StorageException ? e : new StorageException("get", id, e.toString(), e);
        }
    }

    /**
     * A volatile mount leaves {@code work/work/incompat/volatile}, and the kernel refuses to mount that work dir
     * again while it is there. The layer was unmounted cleanly (or it is a scratch layer whose content may be lost
     * by design), so the mark is removed, as containers/storage does.
     */
    private void clearVolatileMark(String id) {
        Path mark = layout.work(id).resolve("work/incompat/volatile");
        if (Files.isDirectory(mark, LinkOption.NOFOLLOW_LINKS)) Trees.delete(mark);
    }

    /** Unmounts the layer's merged dir if something is mounted there, and removes the mount point. */
    void unmount(String id) {
        Path merged = layout.merged(id);
        Mounts.unmountIfMounted(merged, Mounts.MNT_DETACH);
        removeMountPoint(merged);
    }

    private static void removeMountPoint(Path merged) {
        int e = PosixFiles.tryUnlinkat(null, merged.toString(), PosixFiles.AT_REMOVEDIR);
        if (e != 0 && e != Errno.ENOENT && e != Errno.ENOTEMPTY && e != Errno.EBUSY) {
            throw new SyscallException("unlinkat", merged.toString(), e);
        }
    }

    /**
     * The RefCounts predicate: a layer counts as mounted when its merged dir is a mount root; a base layer (no
     * lower file) is always "mounted", since its diff dir is what get returns. Two system calls, no exceptions.
     */
    private boolean isMountedOrBase(String id) {
        if (MountRoots.isMountRoot(layout.merged(id))) return true;
        return !Files.exists(layout.dir(id).resolve(Layout.LOWER));
    }

    /**
     * Unmounts every layer this driver mounted and resets every reference count, then unmounts the counts' tmpfs.
     * "This driver" means the counts in its run directory: a layer mounted by someone else sharing the home (dockerd,
     * when Strata opens its overlay2 dir) has none and is left alone.
     */
    void cleanup() {
        for (String id : refs.ids()) {
            refs.withLock(id, () -> {
                if (MountRoots.isMountRoot(layout.merged(id))) unmount(id);
                refs.forget(id);
                return null;
            });
        }
    }
}
