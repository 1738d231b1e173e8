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
 * root, {@code ..} stops there) and cached as O_PATH descriptors. Whatever removes or replaces something invalidates the cache; the descriptors it held are
 * closed only when the current entry is done ({@link #bury}), since the entry may still be using one.
 */
final class Beneath {
    private static final long IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
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
    /** {@link #resolvedDir} answers, dropped with the descriptors on {@link #invalidate}. */
    private final Map<String, String> resolved = new java.util.HashMap<>();
    private String rootPath;
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

    /**
     * Creates a missing parent (0755 each, as containerd's mkparent) where it resolves in the layer: symlinks on the
     * way are followed as a chroot would (containerd's fs.RootPath), so {@code link/sub} with a dangling
     * {@code link -> /a/b} makes {@code a/b/sub}. The walk only decides what to create; each directory is then made
     * and opened under its parent's descriptor without following anything, so a symlink swapped in meanwhile is
     * refused, never followed.
     */
    private int makeParents(String parent) {
        List<String> path = resolveInRoot(parent);
        int cur = rootFd;
        String prefix = "";
        for (String c : path) {
            prefix = prefix.isEmpty() ? c : prefix + "/" + c;
            int fd = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            if (fd == -ENOENT) {
                int e = sys.mkdirat(cur, c, 0755);
                if (e < 0 && e != -EEXIST) throw errors.failed("mkdirat", prefix, e);
                fd = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            }
            if (fd == -ENOTDIR || fd == -ELOOP) {
                throw errors.refuse("its parent \"" + TarHeader.utf8(parent) + "\" leads to \"" + TarHeader.utf8(prefix) + "\", which is not a directory");
            }
            if (fd < 0) throw errors.failed("openat", prefix, fd);
            if (cur != rootFd) sys.close(cur);
            cur = fd;
        }
        if (cur == rootFd) {
            int fd = sys.openat(rootFd, ".", O_PATH | O_DIRECTORY, 0);
            if (fd < 0) throw errors.failed("openat", ".", fd);
            return fd;
        }
        return cur;
    }

    /**
     * containerd's fs.RootPath: {@code rel}'s components with every symlink on the way replaced by its target (an
     * absolute one from the layer root, {@code ..} stopping at the root), up to 255 links; what does not exist yet is
     * taken as it is.
     */
    private List<String> resolveInRoot(String rel) {
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(List.of(rel.split("/")));
        List<String> done = new ArrayList<>();
        boolean missing = false;
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (!done.isEmpty()) done.removeLast();
                continue;
            }
            if (missing) {
                done.add(c);
                continue;
            }
            int dfd = done.isEmpty() ? rootFd : sys.openat2(rootFd, String.join("/", done), O_PATH | O_DIRECTORY, 0, IN_ROOT);
            if (dfd < 0) throw resolveFailed(String.join("/", done), dfd);
            try {
                int t = sys.typeOf(dfd, c);
                if (t == -ENOENT) {
                    missing = true;
                    done.add(c);
                } else if (t == S_IFDIR) {
                    done.add(c);
                } else if (t == S_IFLNK) {
                    if (++links > 255) throw errors.refuse("resolving \"" + TarHeader.utf8(rel) + "\" met too many symlinks");
                    String target = sys.readlinkat(dfd, c);
                    if (target == null) throw errors.failed("readlinkat", c, -sys.lastErrno());
                    if (target.startsWith("/")) done.clear();
                    String[] tc = target.split("/");
                    for (int k = tc.length - 1; k >= 0; k--) todo.addFirst(tc[k]);
                } else if (t < 0) {
                    throw errors.failed("statx", c, t);
                } else {
                    done.add(c);
                    throw errors.refuse("its parent \"" + TarHeader.utf8(rel) + "\" leads to \"" + TarHeader.utf8(String.join("/", done)) + "\", which is not a directory");
                }
            } finally {
                if (dfd != rootFd) sys.close(dfd);
            }
        }
        return done;
    }

    /**
     * A directory that must already exist, resolved in the layer root (a whiteout's parent when deleting in place):
     * its descriptor, or -ENOENT when it, or a symlink's target on the way, is missing. Not created.
     */
    int existingDirFd(String rel) {
        if (rel.isEmpty()) return rootFd;
        DirRef cached = dirs.get(rel);
        if (cached != null) return cached.fd;
        int fd = sys.openat2(rootFd, rel, O_PATH | O_DIRECTORY, 0, IN_ROOT);
        if (fd == -ENOENT) return fd;
        if (fd < 0) throw resolveFailed(rel, fd);
        dirs.put(rel, new DirRef(fd, gid(fd)));
        return fd;
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

    /**
     * Where a directory of the layer really is, relative to the layer root, once symlinks on its way are followed
     * ({@code link/sub} with {@code link -> /real} is {@code real/sub}); the name itself when it does not exist.
     * containerd and moby record what a tar made by such paths, so an opaque marker on {@code real} keeps what the
     * tar wrote through {@code link}.
     */
    String resolvedDir(String rel) {
        if (rel.isEmpty()) return rel;
        String r = resolved.get(rel);
        if (r != null) return r;
        if (rootPath == null) rootPath = sys.readlinkat(-100, Sys.procPath(rootFd, ""));
        int fd = existingDirFd(rel);
        String real = fd < 0 || rootPath == null ? null : sys.readlinkat(-100, Sys.procPath(fd, ""));
        if (real == null) r = rel;
        else if (real.equals(rootPath)) r = "";
        else if (real.startsWith(rootPath.equals("/") ? "/" : rootPath + "/")) r = real.substring(rootPath.equals("/") ? 1 : rootPath.length() + 1);
        else r = rel;
        resolved.put(rel, r);
        return r;
    }

    /** Something was removed or replaced: cached resolutions may be stale. */
    void invalidate() {
        resolved.clear();
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
