package dev.strata.nativeio;

import dev.strata.api.IdMaps;
import dev.strata.api.Support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Whether this kernel can idmap the filesystem a directory is on, and stack an overlay on such idmapped lowers: the
 * question containers/storage's overlay probe asks before it idmaps lowers instead of chowning a copy. Both probes
 * write nothing and attach nothing: the directory is cloned as a detached tree, idmapped through a user namespace of
 * their own, and looked at through descriptors; the overlay is made on it and a detached tmpfs, and never attached.
 * Everything they make goes when they return, or when the process dies.
 */
public final class IdmapProbe {
    /** The map the probes use: the engines' usual one. */
    private static final IdMaps MAP = IdMaps.parse("0:100000:65536", "0:100000:65536");

    private IdmapProbe() {
    }

    /** Whether the filesystem of {@code dir} (or its nearest existing ancestor) can be idmapped here. */
    public static Support idmappedMounts(Path dir) {
        Path at = existing(dir);
        String fs = fsName(at);
        try (UserNamespace ns = UserNamespace.create(MAP.uidMapLines(), MAP.gidMapLines());
             MountTree tree = MountTree.cloneOf(at).idmap(ns)) {
            String wrong = wrongOwner(at, tree.path());
            return wrong == null ? Support.yes(fs + " can be idmapped") : Support.no(wrong);
        } catch (SyscallException e) {
            return Support.no(explain(fs, e));
        }
    }

    /**
     * Whether an overlay mounts with a lower on an idmapped tree of {@code dir}'s filesystem and shows its files with
     * the mapped owners (Linux 5.19 and later, for filesystems that can be idmapped).
     */
    public static Support overlayOnIdmappedLowers(Path dir) {
        Path at = existing(dir);
        String fs = fsName(at);
        if (!Kernel.hasFilesystem("overlay")) return Support.no("overlay is not in this kernel");
        try (UserNamespace ns = UserNamespace.create(MAP.uidMapLines(), MAP.gidMapLines());
             MountTree tree = MountTree.cloneOf(at).idmap(ns);
             MountTree empty = emptyTmpfs();
             FsContext ctx = FsContext.open("overlay")) {
            // Two lowers and no upper: a read-only overlay, which writes nothing anywhere.
            ctx.set("lowerdir", tree.path() + ":" + empty.path());
            try (MountTree ovl = ctx.mountDetached("the idmapped-lower probe", FsContext.MOUNT_ATTR_RDONLY)) {
                String wrong = wrongOwner(at, ovl.path());
                return wrong == null ? Support.yes("overlay on idmapped " + fs + " lowers") : Support.no("overlay on an idmapped lower: " + wrong);
            }
        } catch (SyscallException e) {
            return Support.no(explain(fs, e));
        }
    }

    private static MountTree emptyTmpfs() {
        try (FsContext t = FsContext.open("tmpfs")) {
            t.set("size", "4k");
            return t.mountDetached("the idmapped-lower probe", FsContext.MOUNT_ATTR_RDONLY);
        }
    }

    /** Null if {@code view}'s root shows {@code real}'s owner mapped as expected, else what it shows. */
    private static String wrongOwner(Path real, Path view) {
        try {
            int uid = (Integer) Files.getAttribute(real, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int shown = (Integer) Files.getAttribute(view.resolve("."), "unix:uid", LinkOption.NOFOLLOW_LINKS); // through the magic link
            int expected = MAP.hostUid(uid);
            return shown == expected ? null : "owner " + uid + " shows as " + shown + " through the idmapped mount, not " + expected;
        } catch (IOException e) {
            return "stat through the idmapped mount: " + e.getMessage();
        }
    }

    private static String explain(String fs, SyscallException e) {
        if (e.syscall().startsWith("mount_setattr") && e.is(Errno.EINVAL)) {
            return fs + " cannot be idmapped by this kernel (" + Kernel.release() + "): " + e.getMessage();
        }
        if (e.is(Errno.ENOSYS)) return "this kernel (" + Kernel.release() + ") has no idmapped mounts: " + e.getMessage();
        return e.getMessage();
    }

    private static Path existing(Path dir) {
        Path p = dir.toAbsolutePath().normalize();
        while (p.getParent() != null && !Files.isDirectory(p)) p = p.getParent();
        return p;
    }

    private static String fsName(Path dir) {
        try {
            return StatFs.of(dir).typeName();
        } catch (RuntimeException e) {
            return "the filesystem of " + dir;
        }
    }
}
