package dev.strata.archive;

import dev.strata.nativeio.fast.Sys;
import dev.strata.archive.tar.TarHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static dev.strata.archive.EntryNames.META;
import static dev.strata.archive.EntryNames.OPAQUE;
import static dev.strata.archive.EntryNames.WH;
import static dev.strata.nativeio.fast.Sys.*;

/**
 * OCI whiteouts of a tar ({@code .wh.<name>}, {@code .wh..wh..opq}) written in a layer's on-disk format: overlay's
 * char 0/0 and opaque xattr ({@code trusted.overlay.opaque} or {@code user.overlay.opaque}), aufs's marker files,
 * or deletion in place with moby's opaque rule. A whiteout's parent is resolved in the layer root like any other
 * entry's (symlinks on the way are followed as a chroot would, as containerd and moby do); its target is never followed.
 */
final class WhiteoutWriter {
    private final Sys sys;
    private final Beneath beneath;
    private final EntryMetadata meta;
    private final Beneath.Errors errors;
    private final WhiteoutFormat f;
    /** DELETE_IN_PLACE: what this tar made, which an opaque marker must keep (moby's unpackedPaths). */
    private final Set<String> unpacked;

    WhiteoutWriter(Sys sys, Beneath beneath, EntryMetadata meta, Beneath.Errors errors, WhiteoutFormat f, Set<String> unpacked) {
        this.sys = sys;
        this.beneath = beneath;
        this.meta = meta;
        this.errors = errors;
        this.f = f;
        this.unpacked = unpacked;
    }

    void apply(TarHeader h, String parent, String base) {
        if (base.startsWith(META) && !base.equals(OPAQUE)) return; // aufs metadata below the root: skipped
        String target = base.substring(WH.length());
        if (!base.equals(OPAQUE) && (target.isEmpty() || target.equals(".") || target.equals(".."))) {
            throw errors.refuse("whiteout of \"" + TarHeader.utf8(target) + "\" is not a name");
        }
        int pfd = f == WhiteoutFormat.DELETE_IN_PLACE ? beneath.existingDirFd(parent) : beneath.parentFd(parent);
        if (pfd == -ENOENT) return; // DELETE_IN_PLACE: nothing there to delete (moby's RemoveAll of a missing path)
        if (base.equals(OPAQUE)) {
            switch (f) {
                case OVERLAY, OVERLAY_USERXATTR -> {
                    int fd = sys.openat(pfd, ".", O_RDONLY | O_DIRECTORY, 0);
                    if (fd < 0) throw errors.failed("openat", parent, fd);
                    try {
                        String x = f == WhiteoutFormat.OVERLAY ? "trusted.overlay.opaque" : "user.overlay.opaque";
                        int e = sys.xattr.fset(fd, x, new byte[]{'y'});
                        if (e < 0) throw errors.failed("fsetxattr " + x, parent.isEmpty() ? "." : parent, e);
                    } finally {
                        sys.close(fd);
                    }
                }
                case AUFS -> whiteoutFile(h, pfd, base);
                case DELETE_IN_PLACE -> {
                    removeNotUnpacked(pfd, beneath.resolvedDir(parent));
                    beneath.invalidate();
                }
            }
            return;
        }
        switch (f) {
            case DELETE_IN_PLACE -> beneath.removeTree(pfd, target);
            case OVERLAY, OVERLAY_USERXATTR -> {
                beneath.removeTree(pfd, target);
                int e = sys.mknodat(pfd, target, S_IFCHR, 0);
                if (e < 0) throw errors.failed("mknodat (whiteout)", target, e);
                meta.ownership(h, -1, pfd, target);
                sys.utimens(pfd, target, h.mtimeNanos, h.mtimeNanos, AT_SYMLINK_NOFOLLOW);
            }
            case AUFS -> whiteoutFile(h, pfd, base);
        }
        beneath.invalidate();
    }

    /** aufs keeps the marker itself: an empty regular file with the entry's owner, mode and time. */
    private void whiteoutFile(TarHeader h, int pfd, String base) {
        beneath.removeTree(pfd, base);
        int fd = sys.openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, h.mode & 0777);
        if (fd < 0) throw errors.failed("openat", base, fd);
        try {
            meta.ownership(h, fd, -1, null);
            meta.mode(h, fd, -1, null);
            sys.utimens(fd, null, h.mtimeNanos, h.mtimeNanos, 0);
        } finally {
            sys.close(fd);
        }
    }

    /** moby's opaque handling for a full tree: remove what is under the directory and was not made by this tar. */
    private void removeNotUnpacked(int dirPathFd, String rel) {
        int fd = sys.openat(dirPathFd, ".", O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0) throw errors.failed("openat", rel, fd);
        try {
            List<String> names = new ArrayList<>();
            List<Integer> types = new ArrayList<>();
            int e = sys.readdir(fd, (n, t) -> {
                names.add(n);
                types.add(t);
            });
            if (e < 0) throw errors.failed("getdents64", rel, e);
            for (int i = 0; i < names.size(); i++) {
                String child = rel.isEmpty() ? names.get(i) : rel + "/" + names.get(i);
                if (!unpacked.contains(child)) {
                    beneath.removeTree(fd, names.get(i));
                } else if (sys.typeOf(fd, names.get(i)) == S_IFDIR) {
                    int cfd = sys.openat(fd, names.get(i), O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
                    if (cfd >= 0) {
                        try {
                            removeNotUnpacked(cfd, child);
                        } finally {
                            sys.close(cfd);
                        }
                    }
                }
            }
        } finally {
            sys.close(fd);
        }
    }
}
