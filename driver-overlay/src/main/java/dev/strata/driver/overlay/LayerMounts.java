package dev.strata.driver.overlay;

import dev.strata.nativeio.Trees;
import dev.strata.api.StorageException;
import dev.strata.kit.LayerIdMaps;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.MountRoots;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The overlay mount of a layer at its {@code merged} dir, for the kit's get and put (which count the references):
 * mount on the first, unmount on the last, removing {@code merged} (as moby does, so copies of the mount in other
 * mount namespaces go too); a failed mount leaves nothing behind. A base layer is not mounted: its root is its diff
 * dir, as in moby. A layer made with id maps stacks its lowers through idmapped trees ({@link IdmappedLowers}), and
 * its diff dir, the upper, holds host ids.
 */
final class LayerMounts {
    private final Layout layout;
    private final OverlayMounter mounter;
    private final boolean volatileMounts;
    private volatile LayerIdMaps idMaps;

    LayerMounts(Layout layout, OverlayMounter mounter, boolean volatileMounts) {
        this.layout = layout;
        this.mounter = mounter;
        this.volatileMounts = volatileMounts;
    }

    /** The kit's record of layers' id maps: lowers are then shown under the maps of the layer mounted. */
    void attach(LayerIdMaps idMaps) {
        this.idMaps = idMaps;
    }

    /** What get returns: the diff dir of a base layer, the merged dir of any other. One stat. */
    Path root(String id) {
        return hasLowers(id) ? layout.merged(id) : layout.diff(id);
    }

    /** Whether the layer has lowers (a lower file): a layer without is not mounted. One stat. */
    boolean hasLowers(String id) {
        return Files.exists(layout.dir(id).resolve(Layout.LOWER));
    }

    /** Mounts a layer with lowers; a base layer needs nothing. */
    void mount(String id, String mountLabel) {
        byte[] lowerFile = layout.lowerFile(id);
        if (lowerFile == null) return;
        String merged = layout.entry(id, Layout.MERGED);
        makeMountPoint(merged); // there already: left by an earlier mount that was not put
        mountAt(id, merged, lowerFile, mountLabel);
    }

    /**
     * {@link #mount} unless the layer is mounted already or is a base layer, and its {@link #root}, in the calls of a
     * mount alone (where asking {@link #isMountedOrBase} first, then {@link #root}, takes three more): a mount point
     * this call has just made has nothing mounted on it, so only one found there already is looked at.
     */
    Path mountUnlessMounted(String id, String mountLabel) {
        byte[] lowerFile = layout.lowerFile(id);
        if (lowerFile == null) return layout.diff(id);
        String merged = layout.entry(id, Layout.MERGED);
        Path root = layout.merged(id);
        if (!makeMountPoint(merged) && MountRoots.isMountRoot(root)) return root; // mounted by nobody who counted it: adopted
        mountAt(id, merged, lowerFile, mountLabel);
        return root;
    }

    /** Makes the mount point; false when it was there already. */
    private static boolean makeMountPoint(String merged) {
        int made = PosixFiles.tryMkdirat(null, merged, 0700);
        if (made == 0) return true;
        if (made == Errno.EEXIST) return false;
        SyscallException e = new SyscallException("mkdirat", merged, made);
        throw new StorageException("get", merged, e.getMessage(), e);
    }

    /** Mounts the layer whose {@code lower} file holds {@code lowerFile} at its mount point {@code merged}, which exists. */
    private void mountAt(String id, String merged, byte[] lowerFile, String mountLabel) {
        // A layer with a child is mounted read-only, its own diff the uppermost lower (moby's "committed").
        boolean readOnly = layout.isCommitted(id);
        LayerIdMaps maps = idMaps;
        boolean mapped = maps != null && maps.inChain(id); // asked once: a layer's record never changes while it exists
        boolean plain = !mounter.usesLabel(mountLabel) && !mapped;
        if (plain && mountKept(id, merged, lowerFile, readOnly)) return;
        List<String> lowerEntries = Layout.lowerEntries(lowerFile);
        if (lowerEntries.isEmpty()) {
            removeMountPoint(merged);
            return;
        }
        try (IdmappedLowers shown = new IdmappedLowers(layout, mapped ? maps : null)) {
            List<String> lowers = new ArrayList<>(lowerEntries.size() + 1);
            if (readOnly) lowers.add(layout.entry(id, Layout.DIFF)); // stored as the layer shows it
            lowers.addAll(shown.lowers(id, lowerEntries));
            if (!readOnly && volatileMounts) clearVolatileMark(id);
            String upper = readOnly ? null : layout.entry(id, Layout.DIFF), work = readOnly ? null : layout.entry(id, Layout.WORK);
            if (!mapped && mounter.takesNewApi(lowers, upper, work)) {
                // no page to fit: each lower as its diff dir, not through its short link (a cheaper lookup each)
                for (int i = readOnly ? 1 : 0, e = 0; i < lowers.size(); i++, e++) lowers.set(i, layout.directLower(lowerEntries.get(e)));
            }
            String data = mounter.mount(merged, lowers, upper, work, mountLabel);
            if (plain) keep(id, lowerFile, readOnly, data);
        } catch (RuntimeException e) {
            removeMountPoint(merged);
            throw e instanceof StorageException ? e : new StorageException("get", id, e.toString(), e);
        }
    }

    /**
     * The mount(2) options of a layer's last mount, and the {@code lower} file and committed state they were built
     * from. The options are a function of those two alone (the home and the driver's options are fixed), so a get
     * that reads the same lower file mounts with the kept string instead of parsing the file and building it again:
     * a layer removed and made again under the same id has another lower file, and gets its options anew.
     */
    private record Kept(byte[] lowerFile, boolean readOnly, String data) {
    }

    private static final int KEPT_MAX = 4096; // options are at most a page each: 16 MiB at worst
    private final ConcurrentHashMap<String, Kept> kept = new ConcurrentHashMap<>();

    private boolean mountKept(String id, String merged, byte[] lowerFile, boolean readOnly) {
        Kept k = kept.get(id);
        if (k == null || k.readOnly != readOnly || !Arrays.equals(k.lowerFile, lowerFile)) return false;
        if (!readOnly && volatileMounts) clearVolatileMark(id);
        if (mounter.mountClassic(merged, k.data)) return true;
        kept.remove(id); // failed: the full path mounts again and explains the failure
        return false;
    }

    private void keep(String id, byte[] lowerFile, boolean readOnly, String data) {
        if (data == null) return;
        if (kept.size() >= KEPT_MAX) kept.clear();
        kept.put(id, new Kept(lowerFile, readOnly, data));
    }

    /** Drops what was kept for a layer being removed. */
    void forget(String id) {
        kept.remove(id);
    }

    /**
     * Mounts a staged copy of a layer (its own upper and work dirs, the layer's lowers) at {@code merged}, for an
     * apply through the mount (the naive path).
     */
    void mountStaged(String id, Path upper, Path work, Path merged) {
        try (IdmappedLowers shown = new IdmappedLowers(layout, idMaps)) {
            mounter.mount(merged.toString(), shown.lowers(id, layout.lowerEntries(id)), upper.toString(), work.toString(), null);
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
        String merged = layout.entry(id, Layout.MERGED);
        // no merged dir (a base layer, or one never mounted): nothing to remove either
        if (Mounts.unmountIfPresent(merged, Mounts.MNT_DETACH) != Mounts.Unmounted.ABSENT) removeMountPoint(merged);
    }

    private static void removeMountPoint(String merged) {
        int e = PosixFiles.tryUnlinkat(null, merged, PosixFiles.AT_REMOVEDIR);
        if (e != 0 && e != Errno.ENOENT && e != Errno.ENOTEMPTY && e != Errno.EBUSY) {
            throw new SyscallException("unlinkat", merged, e);
        }
    }

    /**
     * Whether the layer's root is usable without a mount: its merged dir is a mount root, or it is a base layer
     * (no lower file), whose diff dir is its root. Two system calls, no exceptions.
     */
    boolean isMountedOrBase(String id) {
        // the lower file first: a base layer is answered in one call
        return !hasLowers(id) || MountRoots.isMountRoot(layout.merged(id));
    }
}
