package dev.strata.archive;

import dev.strata.api.IdTranslation;

import dev.strata.api.Change;
import dev.strata.nativeio.fast.Sys;
import dev.strata.archive.tar.TarHeader;
import dev.strata.nativeio.SyscallException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.strata.nativeio.fast.Sys.*;

/**
 * Changes between trees, as moby's {@code archive.ChangesDirs} and containers/storage's {@code OverlayChanges}
 * report them, and the size of a change set (moby's {@code ChangesSize}). Paths are absolute within the layer
 * ({@code /etc/hosts}), sorted.
 */
public final class TreeChanges {
    private TreeChanges() {
    }

    /**
     * Added, modified and deleted paths of {@code layer} against {@code parent} (null: everything is added), with
     * moby's ChangesDirs rules: a path is modified when its type or mode, owner, device number or
     * {@code security.capability} differ, or, for a non-directory, its size or mtime (equal seconds with either
     * nanosecond part zero counts as the same time); a deleted directory is reported alone, not its content; a
     * directory whose content changed is reported as modified although it is not; an inode shared by both trees
     * (same device and inode number) is not looked into.
     */
    public static List<Change> between(Path layer, Path parent) {
        return between(layer, IdTranslation.NONE, parent, IdTranslation.NONE);
    }

    /**
     * The same, with each tree's owners translated before they are compared, so that two layers shown under
     * different id maps compare as one of them shows them.
     */
    public static List<Change> between(Path layer, IdTranslation layerIds, Path parent, IdTranslation parentIds) {
        try (Sys sys = new Sys()) {
            int newFd = open(sys, layer);
            int oldFd = parent == null ? -1 : open(sys, parent);
            try {
                List<Change> out = new ArrayList<>();
                new Comparer(sys, layer.toString(), layerIds, parentIds).dir(newFd, oldFd, "", true, out);
                Collections.sort(out);
                return out;
            } finally {
                sys.close(newFd);
                if (oldFd >= 0) sys.close(oldFd);
            }
        }
    }

    /**
     * Changes read from an overlay or aufs upper directory alone (containers/storage's OverlayChanges): an on-disk
     * whiteout ({@code onDisk}: overlay's char 0/0, aufs's {@code .wh.<name>}) is a deletion; an opaque directory
     * that a lower layer has is a deletion too (its content follows as additions); any other path is modified when a
     * lower layer (uppermost first, unless that lower whites it or a parent out) has it, and added when none does; a
     * directory the same as in the lower (size, mode, mtime) is not reported; the parents of an addition or deletion
     * are reported as modified.
     */
    public static List<Change> ofUpper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowers) {
        try (Sys sys = new Sys()) {
            int fd = open(sys, upperDir);
            List<Integer> lowerFds = new ArrayList<>();
            try {
                for (Path l : lowers == null ? List.<Path>of() : lowers) lowerFds.add(open(sys, l));
                List<Change> out = new ArrayList<>();
                new UpperWalk(sys, upperDir.toString(), onDisk, lowerFds).dir(fd, "", out);
                Collections.sort(out);
                return out;
            } finally {
                sys.close(fd);
                for (int l : lowerFds) sys.close(l);
            }
        }
    }

    /**
     * The byte size of a change set (moby's ChangesSize): the sizes of the added and modified paths that are not
     * directories (a symlink counts the length of its target), a hardlinked inode once.
     */
    public static long size(Path layer, List<Change> changes) {
        try (Sys sys = new Sys()) {
            int root = open(sys, layer);
            try {
                long total = 0;
                Set<Long> seen = new HashSet<>();
                for (Change c : changes) {
                    if (c.kind() == Change.Kind.DELETE) continue;
                    String rel = TarHeader.raw(c.path()).substring(1);
                    if (rel.isEmpty()) continue;
                    int r = lstatBeneath(sys, root, rel);
                    if (r < 0) continue; // moby logs and skips what it cannot stat
                    if (sys.stat.type() == S_IFDIR) continue;
                    if (sys.stat.nlink > 1 && !seen.add(sys.stat.ino)) continue;
                    total += sys.stat.size;
                }
                return total;
            } finally {
                sys.close(root);
            }
        }
    }

    /**
     * lstat of {@code rel} under {@code rootFd} into {@code sys.stat}, its parents resolved beneath the root without
     * following symlinks (overlay does not merge through a symlinked directory either). Returns 0 or -errno.
     */
    static int lstatBeneath(Sys sys, int rootFd, String rel) {
        String parent = EntryNames.parent(rel);
        if (parent.isEmpty()) return sys.statx(rootFd, rel, AT_SYMLINK_NOFOLLOW);
        int pfd = sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (pfd < 0) return pfd;
        try {
            return sys.statx(pfd, EntryNames.base(rel), AT_SYMLINK_NOFOLLOW);
        } finally {
            sys.close(pfd);
        }
    }

    static int open(Sys sys, Path dir) {
        int fd = sys.openat(-100, dir.toString(), O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0) throw new SyscallException("open", dir.toString(), -fd);
        return fd;
    }

    static String[] sortedNames(Sys sys, int fd, String what) {
        if (fd < 0) return new String[0];
        List<String> names = new ArrayList<>();
        int r = sys.readdir(fd, (n, t) -> names.add(n));
        if (r < 0) throw new SyscallException("getdents64", what, -r);
        String[] a = names.toArray(new String[0]);
        Arrays.sort(a);
        return a;
    }

    static String text(String rel) {
        return "/" + TarHeader.utf8(rel);
    }

    /** One stat of a child: the fields ChangesDirs compares. */
    private record Info(int mode, int uid, int gid, int rdevMajor, int rdevMinor, long size, long mtimeNanos, long ino,
                        int devMajor, int devMinor, byte[] capability) {
        boolean isDir() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        boolean differs(Info o) {
            if (mode != o.mode || uid != o.uid || gid != o.gid || rdevMajor != o.rdevMajor || rdevMinor != o.rdevMinor) return true;
            if (!isDir() && (!sameTime(mtimeNanos, o.mtimeNanos) || size != o.size)) return true;
            return !Arrays.equals(capability, o.capability);
        }

        static boolean sameTime(long a, long b) {
            long sa = Math.floorDiv(a, 1_000_000_000L), sb = Math.floorDiv(b, 1_000_000_000L);
            long na = Math.floorMod(a, 1_000_000_000L), nb = Math.floorMod(b, 1_000_000_000L);
            return sa == sb && (na == nb || na == 0 || nb == 0);
        }
    }

    private static Info info(Sys sys, int dirFd, String name, IdTranslation ids) {
        int r = sys.statx(dirFd, name, AT_SYMLINK_NOFOLLOW);
        if (r == -ENOENT) return null;
        if (r < 0) throw new SyscallException("statx", TarHeader.utf8(name), -r);
        Sys.StatBuf s = sys.stat;
        int mode = s.mode, uid = ids.uid(s.uid), gid = ids.gid(s.gid), rmaj = s.rdevMajor, rmin = s.rdevMinor, dmaj = s.devMajor, dmin = s.devMinor;
        long size = s.size, mtime = s.mtimeNanos, ino = s.ino;
        byte[] cap = (mode & S_IFMT) == S_IFREG ? sys.xattr.get(dirFd, name, "security.capability") : null;
        return new Info(mode, uid, gid, rmaj, rmin, size, mtime, ino, dmaj, dmin, cap);
    }

    /** moby's walker + FileInfo.addChanges, without building the two trees in memory. */
    private record Comparer(Sys sys, String what, IdTranslation newIds, IdTranslation oldIds) {
        /**
         * Adds the changes under the directory {@code rel} ({@code newFd}; {@code oldFd} -1 when the old tree has no
         * directory there). {@code reported}: the directory itself is already in the list (added or modified).
         */
        void dir(int newFd, int oldFd, String rel, boolean reported, List<Change> out) {
            int sizeAtEntry = out.size();
            String[] newNames = sortedNames(sys, newFd, what);
            String[] oldNames = sortedNames(sys, oldFd, what);
            int i = 0, j = 0;
            while (i < newNames.length || j < oldNames.length) {
                int c = i >= newNames.length ? 1 : j >= oldNames.length ? -1 : newNames[i].compareTo(oldNames[j]);
                String name = c <= 0 ? newNames[i] : oldNames[j];
                String child = rel.isEmpty() ? name : rel + "/" + name;
                if (c > 0) { // only in the old tree
                    if (info(sys, oldFd, name, oldIds) != null) out.add(new Change(text(child), Change.Kind.DELETE));
                    j++;
                    continue;
                }
                Info n = info(sys, newFd, name, newIds);
                Info o = c == 0 ? info(sys, oldFd, name, oldIds) : null;
                i++;
                if (c == 0) j++;
                if (n == null) {
                    if (o != null) out.add(new Change(text(child), Change.Kind.DELETE));
                    continue;
                }
                if (o != null && o.ino == n.ino && o.devMajor == n.devMajor && o.devMinor == n.devMinor) continue; // shared inode
                boolean childReported = false;
                if (o == null) {
                    out.add(new Change(text(child), Change.Kind.ADD));
                    childReported = true;
                } else if (n.differs(o)) {
                    out.add(new Change(text(child), Change.Kind.MODIFY));
                    childReported = true;
                }
                if (n.isDir()) {
                    int nfd = sys.openat(newFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
                    if (nfd < 0) throw new SyscallException("openat", what + "/" + TarHeader.utf8(child), -nfd);
                    int ofd = o != null && o.isDir() ? sys.openat(oldFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0) : -1;
                    try {
                        dir(nfd, ofd, child, childReported, out);
                    } finally {
                        sys.close(nfd);
                        if (ofd >= 0) sys.close(ofd);
                    }
                }
            }
            if (out.size() > sizeAtEntry && !reported && !rel.isEmpty()) {
                out.add(sizeAtEntry, new Change(text(rel), Change.Kind.MODIFY));
            }
        }
    }

    /** containers/storage's changes() with overlayDeletedFile / aufsDeletedFile. */
    private static final class UpperWalk {
        private final Sys sys;
        private final String what;
        private final WhiteoutFormat onDisk;
        private final List<Integer> lowers;
        private final Set<String> changedDirs = new HashSet<>();

        UpperWalk(Sys sys, String what, WhiteoutFormat onDisk, List<Integer> lowers) {
            this.sys = sys;
            this.what = what;
            this.onDisk = onDisk;
            this.lowers = lowers;
        }

        void dir(int fd, String rel, List<Change> out) {
            for (String name : sortedNames(sys, fd, what)) {
                String child = rel.isEmpty() ? name : rel + "/" + name;
                boolean aufs = onDisk == WhiteoutFormat.AUFS;
                if (aufs && rel.isEmpty() && name.startsWith(EntryNames.META) && !name.equals(EntryNames.OPAQUE)) continue;
                if (sys.statx(fd, name, AT_SYMLINK_NOFOLLOW) < 0) continue;
                Sys.StatBuf s = sys.stat;
                int type = s.type();
                long size = s.size, mtime = s.mtimeNanos;
                int mode = s.mode;
                boolean isDir = type == S_IFDIR;
                String deleted = null;
                if (aufs) {
                    if (name.equals(EntryNames.OPAQUE)) {
                        if (!rel.isEmpty() && inSomeLower(rel)) deleted = rel; // the directory was replaced
                        else continue;
                    } else if (name.startsWith(EntryNames.WH)) {
                        deleted = (rel.isEmpty() ? "" : rel + "/") + name.substring(EntryNames.WH.length());
                    }
                } else if (type == S_IFCHR && s.rdevMajor == 0 && s.rdevMinor == 0) {
                    deleted = child;
                } else if (isDir && isOpaque(fd, name) && inSomeLower(child)) {
                    deleted = child;
                }
                Change.Kind kind;
                String path = child;
                if (deleted != null) {
                    kind = Change.Kind.DELETE;
                    path = deleted;
                } else {
                    kind = Change.Kind.ADD;
                    Boolean same = null;
                    for (int lower : lowers) {
                        if (whitedOut(lower, child)) break;
                        if (lstatBeneath(sys, lower, child) == 0) {
                            if (isDir && sys.stat.type() == S_IFDIR && sys.stat.size == size && sys.stat.mode == mode
                                    && Info.sameTime(sys.stat.mtimeNanos, mtime)) {
                                same = true;
                            }
                            kind = Change.Kind.MODIFY;
                            break;
                        }
                    }
                    if (same != null) {
                        recurse(fd, name, child, isDir, out);
                        continue; // a directory as it was in the lower: not a change by itself
                    }
                }
                if (isDir) changedDirs.add(child);
                if (kind != Change.Kind.MODIFY) {
                    List<Change> tail = new ArrayList<>();
                    for (String p = EntryNames.parent(path); !p.isEmpty(); p = EntryNames.parent(p)) {
                        if (changedDirs.add(p)) tail.add(0, new Change(text(p), Change.Kind.MODIFY));
                    }
                    out.addAll(tail);
                }
                out.add(new Change(text(path), kind));
                recurse(fd, name, child, isDir, out);
            }
        }

        private void recurse(int fd, String name, String child, boolean isDir, List<Change> out) {
            if (!isDir) return;
            int cfd = sys.openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
            if (cfd < 0) throw new SyscallException("openat", what + "/" + TarHeader.utf8(child), -cfd);
            try {
                dir(cfd, child, out);
            } finally {
                sys.close(cfd);
            }
        }

        private boolean isOpaque(int fd, String name) {
            String key = onDisk == WhiteoutFormat.OVERLAY_USERXATTR ? "user.overlay.opaque" : "trusted.overlay.opaque";
            byte[] v = sys.xattr.get(fd, name, key);
            return v != null && v.length == 1 && v[0] == 'y';
        }

        /** Some lower has {@code rel} and does not white it or a parent out first. */
        private boolean inSomeLower(String rel) {
            for (int lower : lowers) {
                if (whitedOut(lower, rel)) return false;
                if (lstatBeneath(sys, lower, rel) == 0) return true;
            }
            return false;
        }

        /** Whether this lower whites out {@code rel} or one of its parents. */
        private boolean whitedOut(int lower, String rel) {
            for (String p = rel; !p.isEmpty(); p = EntryNames.parent(p)) {
                if (onDisk == WhiteoutFormat.AUFS) {
                    String parent = EntryNames.parent(p);
                    String wh = (parent.isEmpty() ? "" : parent + "/") + EntryNames.WH + EntryNames.base(p);
                    if (lstatBeneath(sys, lower, wh) == 0) return true;
                } else if (lstatBeneath(sys, lower, p) == 0 && sys.stat.type() == S_IFCHR
                        && sys.stat.rdevMajor == 0 && sys.stat.rdevMinor == 0) {
                    return true;
                }
            }
            return false;
        }
    }
}
