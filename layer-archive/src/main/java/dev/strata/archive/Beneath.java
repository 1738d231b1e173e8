package dev.strata.archive;

import dev.strata.api.StorageException;
import dev.strata.nativeio.fast.Sys;
import dev.strata.archive.tar.TarHeader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.strata.nativeio.fast.Sys.*;

/**
 * Paths of one apply, resolved beneath the layer root by the kernel, and removal that never follows a symlink.
 * Parents are opened with openat2 {@code RESOLVE_IN_ROOT} (a chroot's view: absolute symlinks start at the layer
 * root, {@code ..} stops there) and cached as O_PATH descriptors; a whiteout's parent with {@code RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS}. Whatever removes or replaces something invalidates the cache; the descriptors it held are
 * closed only when the current entry is done ({@link #bury}), since the entry may still be using one.
 */
final class Beneath {
    private static final long IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    private static final long STRICT = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    private static final int DIR_CACHE = 64;

    /** How the caller words a refusal or a failed call for the entry at hand. */
    interface Errors {
        UnsafeEntryException refuse(String why);

        StorageException failed(String call, String what, long negErrno);
    }

    private final Sys sys;
    private final int rootFd;
    private final Errors errors;
    private final LinkedHashMap<String, DirRef> dirs = new LinkedHashMap<>(128, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, DirRef> e) {
            if (size() > DIR_CACHE) {
                graveyard.add(e.getValue().fd);
                return true;
            }
            return false;
        }
    };
    private final List<Integer> graveyard = new ArrayList<>();
    private final int rootGid;
    private int parentGid;

    private record DirRef(int fd, int gid) {
    }

    Beneath(Sys sys, int rootFd, Errors errors) {
        this.sys = sys;
        this.rootFd = rootFd;
        this.errors = errors;
        this.rootGid = gid(rootFd);
    }

    /**
     * The group of the directory last returned by {@link #parentFd}, -1 if unknown. A new file gets our group, or
     * its directory's when that is setgid (or the fs is mounted grpid); either way ours when the directory's is ours.
     */
    int parentGid() {
        return parentGid;
    }

    private int gid(int dirFd) {
        return sys.statx(dirFd, "", AT_EMPTY_PATH) == 0 ? sys.stat.gid : -1;
    }

    /** The parent directory of an entry, resolved in the layer root and created (0755) where missing. */
    int parentFd(String parent) {
        if (parent.isEmpty()) {
            parentGid = rootGid;
            return rootFd;
        }
        DirRef cached = dirs.get(parent);
        if (cached != null) {
            parentGid = cached.gid;
            return cached.fd;
        }
        int fd = sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, IN_ROOT);
        if (fd == -ENOENT) fd = makeParents(parent);
        else if (fd < 0) throw resolveFailed(parent, fd);
        parentGid = gid(fd);
        dirs.put(parent, new DirRef(fd, parentGid));
        return fd;
    }

    /** The parent of a hardlink target, which must exist; -errno otherwise. Not created. */
    int existingParentFd(String parent) {
        if (parent.isEmpty()) return rootFd;
        DirRef cached = dirs.get(parent);
        if (cached != null) return cached.fd;
        int fd = sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, IN_ROOT);
        if (fd == -ENOTDIR || fd == -ELOOP) return -ENOENT;
        if (fd < 0) return fd;
        dirs.put(parent, new DirRef(fd, gid(fd)));
        return fd;
    }

    private int makeParents(String parent) {
        String[] comps = parent.split("/");
        int cur = rootFd;
        String prefix = "";
        for (String c : comps) {
            prefix = prefix.isEmpty() ? c : prefix + "/" + c;
            int fd = sys.openat2(rootFd, prefix, O_PATH | O_DIRECTORY, 0, IN_ROOT);
            if (fd == -ENOENT) {
                int t = sys.typeOf(cur, c);
                if (t == -ENOENT) {
                    int e = sys.mkdirat(cur, c, 0755);
                    if (e < 0 && e != -EEXIST) throw errors.failed("mkdirat", prefix, e);
                    fd = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
                    if (fd < 0) throw errors.failed("openat", prefix, fd);
                } else if (t == S_IFLNK) {
                    throw errors.refuse("its parent \"" + TarHeader.utf8(prefix) + "\" is a symlink that does not lead to a directory inside the layer");
                } else {
                    throw errors.refuse("its parent \"" + TarHeader.utf8(prefix) + "\" is not a directory");
                }
            } else if (fd < 0) {
                throw resolveFailed(prefix, fd);
            }
            if (cur != rootFd) sys.close(cur);
            cur = fd;
        }
        return cur;
    }

    /** A whiteout's parent: no symlink anywhere on the way (RESOLVE_NO_SYMLINKS). Not cached. */
    int strictParentFd(String parent, boolean create) {
        if (parent.isEmpty()) return rootFd;
        int fd = sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, STRICT);
        if (fd >= 0) {
            graveyard.add(fd);
            return fd;
        }
        if (fd == -ELOOP || fd == -EXDEV) throw errors.refuse("whiteout aimed through a symlink (\"" + TarHeader.utf8(parent) + "\" is or passes one)");
        if (fd == -ENOTDIR) throw errors.refuse("its parent \"" + TarHeader.utf8(parent) + "\" is not a directory");
        if (fd != -ENOENT) throw errors.failed("openat2", parent, fd);
        if (!create) {
            // a symlink on the way that dangles also gives ENOENT under NO_SYMLINKS only after it; look for one
            checkNoSymlinkOnTheWay(parent);
            return -ENOENT;
        }
        int cur = rootFd;
        for (String c : parent.split("/")) {
            int next = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            if (next == -ENOENT) {
                int e = sys.mkdirat(cur, c, 0755);
                if (e < 0 && e != -EEXIST) throw errors.failed("mkdirat", c, e);
                next = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            }
            if (next == -ELOOP || next == -ENOTDIR) {
                throw errors.refuse("whiteout aimed through a symlink or a non-directory (\"" + TarHeader.utf8(c) + "\")");
            }
            if (next < 0) throw errors.failed("openat", c, next);
            graveyard.add(next);
            cur = next;
        }
        return cur;
    }

    private void checkNoSymlinkOnTheWay(String parent) {
        int cur = rootFd;
        for (String c : parent.split("/")) {
            int t = sys.typeOf(cur, c);
            if (t == S_IFLNK) throw errors.refuse("whiteout aimed through a symlink (\"" + TarHeader.utf8(c) + "\")");
            if (t != S_IFDIR) return;
            int next = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            if (next < 0) return;
            graveyard.add(next);
            cur = next;
        }
    }

    void removeExisting(int pfd, String base) {
        removeTree(pfd, base);
        invalidate();
    }

    /** Removes {@code name} under {@code dirfd}, a directory with everything in it, never following a symlink. */
    void removeTree(int dirfd, String name) {
        int e = sys.unlinkat(dirfd, name, 0);
        if (e == 0 || e == -ENOENT) return;
        if (e != -EISDIR) throw errors.failed("unlinkat", name, e);
        int fd = sys.openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (fd < 0) throw errors.failed("openat", name, fd);
        try {
            List<String> children = new ArrayList<>();
            int r = sys.readdir(fd, (n, t) -> children.add(n));
            if (r < 0) throw errors.failed("getdents64", name, r);
            for (String c : children) removeTree(fd, c);
        } finally {
            sys.close(fd);
        }
        e = sys.unlinkat(dirfd, name, AT_REMOVEDIR);
        if (e < 0 && e != -ENOENT) throw errors.failed("unlinkat", name, e);
    }

    /** Something was removed or replaced: cached resolutions may be stale. */
    void invalidate() {
        for (DirRef d : dirs.values()) graveyard.add(d.fd);
        dirs.clear();
    }

    void bury() {
        for (int fd : graveyard) sys.close(fd);
        graveyard.clear();
    }

    private StorageException resolveFailed(String path, long negErrno) {
        int e = (int) -negErrno;
        if (e == ELOOP) return errors.refuse("resolving \"" + TarHeader.utf8(path) + "\" met too many symlinks");
        if (e == ENOTDIR) return errors.refuse("its parent \"" + TarHeader.utf8(path) + "\" is not a directory");
        if (e == ENAMETOOLONG) return errors.refuse("its name is too long");
        return errors.failed("openat2", path, negErrno);
    }
}
