package dev.strata.archive;

import dev.strata.api.StorageException;
import dev.strata.archive.fs.Sys;
import dev.strata.archive.tar.TarFormatException;
import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarReader;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.strata.archive.EntryNames.META;
import static dev.strata.archive.EntryNames.OPAQUE;
import static dev.strata.archive.EntryNames.WH;
import static dev.strata.archive.fs.Sys.*;

/**
 * Applies one tar into a layer directory ({@link LayerArchive#apply}). Every path is resolved by the kernel beneath
 * the layer root: parents with openat2 RESOLVE_IN_ROOT (symlinks inside the layer are followed as a chroot would,
 * absolute ones from the layer root, and nothing can climb out), whiteout parents with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS; the final component is always acted on by name under its parent's descriptor without being
 * followed (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, linkat without AT_SYMLINK_FOLLOW, removal that never descends a symlink).
 *
 * <p>Single-threaded; one instance per apply.
 */
final class Applier implements AutoCloseable {
    private static final long IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    private static final long STRICT = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    private static final int DIR_CACHE = 64;

    private final String layer;
    private final ApplyOptions options;
    private final Sys sys = new Sys();
    private final int rootFd;
    private final boolean root;
    private final int euid, egid, umask;
    /** Resolved parent directories (O_PATH fds) by relative path; evicted and invalidated fds go to the graveyard. */
    private final LinkedHashMap<String, Integer> dirs = new LinkedHashMap<>(128, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> e) {
            if (size() > DIR_CACHE) {
                graveyard.add(e.getValue());
                return true;
            }
            return false;
        }
    };
    /** Descriptors to close once the current entry is done (an entry may still be using one that was invalidated). */
    private final List<Integer> graveyard = new ArrayList<>();
    private final List<DirTime> dirTimes = new ArrayList<>();
    /** DELETE_IN_PLACE: what this tar made, which an opaque marker must keep (moby's unpackedPaths). */
    private final Set<String> unpacked;
    private TarHeader current;

    private record DirTime(String rel, long mtimeNanos, int deferredMode) {
    }

    Applier(Path layerRoot, ApplyOptions options) {
        this.layer = layerRoot.toString();
        this.options = options;
        int fd = sys.openat(-100, layer, O_PATH | O_DIRECTORY, 0);
        if (fd < 0) {
            sys.close();
            throw new SyscallException("open", layer, -fd);
        }
        this.rootFd = fd;
        this.euid = dev.strata.nativeio.Kernel.euid();
        this.egid = Sys.egid();
        this.root = euid == 0;
        this.umask = Sys.umask();
        this.unpacked = options.whiteouts() == WhiteoutFormat.DELETE_IN_PLACE ? new HashSet<>() : null;
    }

    long apply(InputStream in) {
        TarReader reader = new TarReader(in);
        long total = 0;
        while (true) {
            TarHeader h;
            try {
                h = reader.next();
            } catch (TarFormatException e) {
                throw new UnsafeEntryException(layer, TarHeader.utf8(e.entry()), e.getMessage());
            } catch (UncheckedIOException e) {
                throw new StorageException("applyDiff", layer, "reading the tar stream: " + e.getCause().getMessage(), e);
            }
            if (h == null) break;
            current = h;
            if (h.isRegular()) total += h.size;
            try {
                entry(reader, h);
            } catch (TarFormatException e) {
                throw new UnsafeEntryException(layer, h.displayName(), e.getMessage());
            } catch (SyscallException e) {
                throw new StorageException("applyDiff", layer, "tar entry \"" + h.displayName() + "\": " + e.getMessage(), e);
            } finally {
                bury();
            }
        }
        restoreDirectories();
        return total;
    }

    private void entry(TarReader r, TarHeader h) {
        String rel;
        try {
            rel = EntryNames.normalize(h.name);
        } catch (EntryNames.Refused e) {
            throw refuse(e.getMessage());
        }
        int slash = rel.indexOf('/');
        String first = slash < 0 ? rel : rel.substring(0, slash);
        if (first.startsWith(META) && !rel.equals(OPAQUE)) return; // aufs metadata (.wh..wh.plnk, .wh..wh.aufs, ...): skipped, as moby does
        if (EntryNames.whiteoutDirectory(rel)) throw refuse("a directory in its path is whiteout-prefixed (\".wh.\")");
        for (String x : h.xattrs.keySet()) {
            if (x.startsWith("trusted.overlay.") || x.startsWith("user.overlay.")) {
                throw refuse("it carries the overlayfs xattr " + x + ", which would change how the layer stacks");
            }
        }
        String parent = EntryNames.parent(rel), base = EntryNames.base(rel);
        if (!rel.isEmpty() && base.startsWith(WH)) {
            whiteout(r, h, rel, parent, base);
            return;
        }
        if (rel.isEmpty() && h.type != TarHeader.DIRECTORY) throw refuse("it would replace the layer root");
        switch (h.type) {
            case TarHeader.REGULAR, TarHeader.REGULAR_OLD, TarHeader.CONTIGUOUS -> regular(r, h, parent, base);
            case TarHeader.DIRECTORY -> directory(h, rel, parent, base);
            case TarHeader.SYMLINK -> symlink(h, parent, base);
            case TarHeader.HARDLINK -> hardlink(h, rel, parent, base);
            case TarHeader.CHAR, TarHeader.BLOCK, TarHeader.FIFO -> node(h, parent, base);
            default -> throw refuse("unsupported entry type '" + (char) h.type + "'");
        }
        if (unpacked != null) unpacked.add(rel);
    }

    // ---- entry kinds ----

    private void regular(TarReader r, TarHeader h, String parent, String base) {
        int pfd = parentFd(parent);
        int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
        int fd = sys.openat(pfd, base, flags, h.mode & 0777);
        if (fd == -EEXIST) {
            removeExisting(pfd, base);
            fd = sys.openat(pfd, base, flags, h.mode & 0777);
        }
        if (fd < 0) throw failed("openat", base, fd);
        try {
            final int out = fd;
            TarReader.Sink sink = (b, off, len) -> {
                int e = sys.writeFully(out, b, off, len);
                if (e < 0) throw new SyscallException("write", h.displayName(), -e);
            };
            if (h.sparse == null) {
                r.transfer(r.remaining(), sink);
            } else {
                // keep the holes: seek over them instead of writing zeros
                for (int i = 0; i < h.sparse.length; i += 2) {
                    if (h.sparse[i + 1] == 0) continue;
                    long s = sys.lseek(fd, h.sparse[i], SEEK_SET);
                    if (s < 0) throw failed("lseek", base, s);
                    r.transfer(h.sparse[i + 1], sink);
                }
                int e = sys.ftruncate(fd, h.size);
                if (e < 0) throw failed("ftruncate", base, e);
            }
            ownership(h, fd, -1, null);
            mode(h, fd, -1, null);
            xattrs(h, fd, -1, null);
            int e = sys.utimens(fd, null, h.mtimeNanos, h.mtimeNanos, 0);
            if (e < 0) throw failed("futimens", base, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            sys.close(fd);
        }
    }

    private void directory(TarHeader h, String rel, String parent, String base) {
        int fd;
        int perm = h.mode & 07777;
        // without root, a directory we could not write into would stop its own entries: make it 0700 until the end
        boolean defer = !root && (perm & 0700) != 0700;
        if (rel.isEmpty()) {
            fd = sys.openat(rootFd, ".", O_RDONLY | O_DIRECTORY, 0);
            if (fd < 0) throw failed("open", ".", fd);
        } else {
            int pfd = parentFd(parent);
            int e = sys.mkdirat(pfd, base, (perm | (defer ? 0700 : 0)) & 0777);
            if (e == -EEXIST) {
                int t = sys.typeOf(pfd, base);
                if (t != S_IFDIR) {
                    removeExisting(pfd, base);
                    e = sys.mkdirat(pfd, base, (perm | (defer ? 0700 : 0)) & 0777);
                } else {
                    e = 0; // an existing directory is merged: only its metadata is applied
                }
            }
            if (e < 0) throw failed("mkdirat", base, e);
            fd = sys.openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
            if (fd < 0) throw failed("openat", base, fd);
        }
        try {
            ownership(h, fd, -1, null);
            if (!defer) mode(h, fd, -1, null);
            xattrs(h, fd, -1, null);
        } finally {
            sys.close(fd);
        }
        dirTimes.add(new DirTime(rel, h.mtimeNanos, defer ? perm : -1));
    }

    private void symlink(TarHeader h, String parent, String base) {
        if (h.linkName.isEmpty()) throw refuse("symlink with an empty target");
        if (EntryNames.climbsOut(parent, h.linkName)) {
            throw refuse("symlink target \"" + TarHeader.utf8(h.linkName) + "\" leads out of the layer");
        }
        int pfd = parentFd(parent);
        int e = sys.symlinkat(h.linkName, pfd, base);
        if (e == -EEXIST) {
            removeExisting(pfd, base);
            e = sys.symlinkat(h.linkName, pfd, base);
        }
        if (e < 0) throw failed("symlinkat", base, e);
        ownership(h, -1, pfd, base);
        xattrs(h, -1, pfd, base);
        e = sys.utimens(pfd, base, h.mtimeNanos, h.mtimeNanos, AT_SYMLINK_NOFOLLOW);
        if (e < 0) throw failed("utimensat", base, e);
    }

    private void hardlink(TarHeader h, String rel, String parent, String base) {
        String target;
        try {
            target = EntryNames.normalize(h.linkName);
        } catch (EntryNames.Refused e) {
            throw refuse("hardlink target \"" + TarHeader.utf8(h.linkName) + "\": " + e.getMessage());
        }
        if (target.isEmpty()) throw refuse("hardlink to the layer root");
        if (target.startsWith(META)) throw refuse("hardlink into aufs metadata (" + TarHeader.utf8(target) + ") is not supported");
        if (target.equals(rel)) return; // a link to itself: nothing to do
        int tfd = existingParentFd(EntryNames.parent(target));
        if (tfd == -ENOENT) throw refuse("hardlink target \"" + TarHeader.utf8(target) + "\" does not exist in the layer");
        if (tfd < 0) throw failed("openat2", EntryNames.parent(target), tfd);
        int pfd = parentFd(parent);
        int e = sys.linkat(tfd, EntryNames.base(target), pfd, base);
        if (e == -EEXIST) {
            removeExisting(pfd, base);
            e = sys.linkat(tfd, EntryNames.base(target), pfd, base);
        }
        if (e == -ENOENT) throw refuse("hardlink target \"" + TarHeader.utf8(target) + "\" does not exist in the layer");
        if (e == -EPERM) throw refuse("hardlink target \"" + TarHeader.utf8(target) + "\" is a directory");
        if (e < 0) throw failed("linkat", base, e);
    }

    private void node(TarHeader h, String parent, String base) {
        int type = switch (h.type) {
            case TarHeader.CHAR -> S_IFCHR;
            case TarHeader.BLOCK -> S_IFBLK;
            default -> S_IFIFO;
        };
        if (type != S_IFIFO && !options.allowDevices()) {
            throw refuse("device node " + h.devMajor + ":" + h.devMinor + " not permitted (ApplyOptions.allowDevices is false)");
        }
        int pfd = parentFd(parent);
        long dev = type == S_IFIFO ? 0 : Sys.makedev(h.devMajor, h.devMinor);
        int e = sys.mknodat(pfd, base, type | (h.mode & 0777), dev);
        if (e == -EEXIST) {
            removeExisting(pfd, base);
            e = sys.mknodat(pfd, base, type | (h.mode & 0777), dev);
        }
        if (e < 0) throw failed("mknodat", base, e);
        ownership(h, -1, pfd, base);
        mode(h, -1, pfd, base);
        xattrs(h, -1, pfd, base);
        e = sys.utimens(pfd, base, h.mtimeNanos, h.mtimeNanos, AT_SYMLINK_NOFOLLOW);
        if (e < 0) throw failed("utimensat", base, e);
    }

    // ---- whiteouts ----

    private void whiteout(TarReader r, TarHeader h, String rel, String parent, String base) {
        if (base.startsWith(META) && !base.equals(OPAQUE)) return; // aufs metadata below the root: skipped
        WhiteoutFormat f = options.whiteouts();
        String target = base.substring(WH.length());
        if (!base.equals(OPAQUE) && (target.isEmpty() || target.equals(".") || target.equals(".."))) {
            throw refuse("whiteout of \"" + TarHeader.utf8(target) + "\" is not a name");
        }
        int pfd = strictParentFd(parent, f != WhiteoutFormat.DELETE_IN_PLACE);
        if (pfd == -ENOENT) return; // DELETE_IN_PLACE: nothing there to delete
        if (base.equals(OPAQUE)) {
            switch (f) {
                case OVERLAY, OVERLAY_USERXATTR -> {
                    int fd = sys.openat(pfd, ".", O_RDONLY | O_DIRECTORY, 0);
                    if (fd < 0) throw failed("openat", parent, fd);
                    try {
                        String x = f == WhiteoutFormat.OVERLAY ? "trusted.overlay.opaque" : "user.overlay.opaque";
                        int e = sys.fsetxattr(fd, x, new byte[]{'y'});
                        if (e < 0) throw failed("fsetxattr " + x, parent.isEmpty() ? "." : parent, e);
                    } finally {
                        sys.close(fd);
                    }
                }
                case AUFS -> whiteoutFile(h, pfd, base);
                case DELETE_IN_PLACE -> {
                    removeNotUnpacked(pfd, parent);
                    invalidate();
                }
            }
            return;
        }
        switch (f) {
            case DELETE_IN_PLACE -> removeTree(pfd, target);
            case OVERLAY, OVERLAY_USERXATTR -> {
                removeTree(pfd, target);
                int e = sys.mknodat(pfd, target, S_IFCHR, 0);
                if (e < 0) throw failed("mknodat (whiteout)", target, e);
                ownership(h, -1, pfd, target);
                sys.utimens(pfd, target, h.mtimeNanos, h.mtimeNanos, AT_SYMLINK_NOFOLLOW);
            }
            case AUFS -> whiteoutFile(h, pfd, base);
        }
        invalidate();
    }

    /** aufs keeps the marker itself: an empty regular file with the entry's owner, mode and time. */
    private void whiteoutFile(TarHeader h, int pfd, String base) {
        removeTree(pfd, base);
        int fd = sys.openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, h.mode & 0777);
        if (fd < 0) throw failed("openat", base, fd);
        try {
            ownership(h, fd, -1, null);
            mode(h, fd, -1, null);
            sys.utimens(fd, null, h.mtimeNanos, h.mtimeNanos, 0);
        } finally {
            sys.close(fd);
        }
    }

    /** moby's opaque handling for a full tree: remove what is under the directory and was not made by this tar. */
    private void removeNotUnpacked(int dirPathFd, String rel) {
        int fd = sys.openat(dirPathFd, ".", O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0) throw failed("openat", rel, fd);
        try {
            List<String> names = new ArrayList<>();
            List<Integer> types = new ArrayList<>();
            int e = sys.readdir(fd, (n, t) -> {
                names.add(n);
                types.add(t);
            });
            if (e < 0) throw failed("getdents64", rel, e);
            for (int i = 0; i < names.size(); i++) {
                String child = rel.isEmpty() ? names.get(i) : rel + "/" + names.get(i);
                if (!unpacked.contains(child)) {
                    removeTree(fd, names.get(i));
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

    // ---- metadata ----

    private void ownership(TarHeader h, int fd, int dirfd, String name) {
        if (!root && h.uid == euid && h.gid == egid) return;
        int e = fd >= 0 ? sys.fchown(fd, h.uid, h.gid) : sys.lchownat(dirfd, name, h.uid, h.gid);
        if (e == -EPERM && !root) return; // without root, files stay ours (GNU tar without --same-owner does the same)
        if (e < 0) throw failed(fd >= 0 ? "fchown" : "fchownat", name == null ? h.displayName() : name, e);
    }

    /** chmod after chown: chown clears setuid/setgid, and creation masked the mode with the umask. */
    private void mode(TarHeader h, int fd, int dirfd, String name) {
        int perm = h.mode & 07777;
        if ((perm & 07000) == 0 && (perm & umask) == 0) return;
        int e = fd >= 0 ? sys.fchmod(fd, perm) : sys.fchmodat(dirfd, name, perm);
        if (e < 0) throw failed("fchmod", name == null ? h.displayName() : name, e);
    }

    /** xattrs last: chown clears security.capability. */
    private void xattrs(TarHeader h, int fd, int dirfd, String name) {
        for (Map.Entry<String, byte[]> x : h.xattrs.entrySet()) {
            int e = fd >= 0 ? sys.fsetxattr(fd, x.getKey(), x.getValue()) : sys.lsetxattrAt(dirfd, name, x.getKey(), x.getValue());
            if (e == -EOPNOTSUPP) continue; // the filesystem has no such namespace (moby ignores this too)
            if (e == -EPERM && fd < 0 && x.getKey().startsWith("user.")) continue; // user.* is not allowed on symlinks/devices
            if (e < 0) throw failed("setxattr " + x.getKey(), name == null ? h.displayName() : name, e);
        }
    }

    private void restoreDirectories() {
        for (int i = dirTimes.size() - 1; i >= 0; i--) {
            DirTime d = dirTimes.get(i);
            int fd = d.rel.isEmpty() ? sys.openat(rootFd, ".", O_RDONLY | O_DIRECTORY, 0)
                    : sys.openat2(rootFd, d.rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, IN_ROOT);
            if (fd < 0) continue; // replaced or removed by a later entry
            try {
                if (d.deferredMode >= 0) sys.fchmod(fd, d.deferredMode);
                int e = sys.utimens(fd, null, d.mtimeNanos, d.mtimeNanos, 0);
                if (e < 0) throw new StorageException("applyDiff", layer, "restoring the mtime of \"" + TarHeader.utf8(d.rel) + "\": errno " + -e);
            } finally {
                sys.close(fd);
            }
        }
    }

    // ---- resolution beneath the root ----

    /** The parent directory of an entry, resolved in the layer root and created (0755) where missing. */
    private int parentFd(String parent) {
        if (parent.isEmpty()) return rootFd;
        Integer cached = dirs.get(parent);
        if (cached != null) return cached;
        int fd = sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, IN_ROOT);
        if (fd == -ENOENT) fd = makeParents(parent);
        else if (fd < 0) throw resolveFailed(parent, fd);
        dirs.put(parent, fd);
        return fd;
    }

    /** The parent of a hardlink target, which must exist; -errno otherwise. Not created. */
    private int existingParentFd(String parent) {
        if (parent.isEmpty()) return rootFd;
        Integer cached = dirs.get(parent);
        if (cached != null) return cached;
        int fd = sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, IN_ROOT);
        if (fd == -ENOTDIR || fd == -ELOOP) return -ENOENT;
        if (fd < 0) return fd;
        dirs.put(parent, fd);
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
                    if (e < 0 && e != -EEXIST) throw failed("mkdirat", prefix, e);
                    fd = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
                    if (fd < 0) throw failed("openat", prefix, fd);
                } else if (t == S_IFLNK) {
                    throw refuse("its parent \"" + TarHeader.utf8(prefix) + "\" is a symlink that does not lead to a directory inside the layer");
                } else {
                    throw refuse("its parent \"" + TarHeader.utf8(prefix) + "\" is not a directory");
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
    private int strictParentFd(String parent, boolean create) {
        if (parent.isEmpty()) return rootFd;
        int fd = sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, STRICT);
        if (fd >= 0) {
            graveyard.add(fd);
            return fd;
        }
        if (fd == -ELOOP || fd == -EXDEV) throw refuse("whiteout aimed through a symlink (\"" + TarHeader.utf8(parent) + "\" is or passes one)");
        if (fd == -ENOTDIR) throw refuse("its parent \"" + TarHeader.utf8(parent) + "\" is not a directory");
        if (fd != -ENOENT) throw failed("openat2", parent, fd);
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
                if (e < 0 && e != -EEXIST) throw failed("mkdirat", c, e);
                next = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            }
            if (next == -ELOOP || next == -ENOTDIR) {
                throw refuse("whiteout aimed through a symlink or a non-directory (\"" + TarHeader.utf8(c) + "\")");
            }
            if (next < 0) throw failed("openat", c, next);
            graveyard.add(next);
            cur = next;
        }
        return cur;
    }

    private void checkNoSymlinkOnTheWay(String parent) {
        int cur = rootFd;
        for (String c : parent.split("/")) {
            int t = sys.typeOf(cur, c);
            if (t == S_IFLNK) throw refuse("whiteout aimed through a symlink (\"" + TarHeader.utf8(c) + "\")");
            if (t != S_IFDIR) return;
            int next = sys.openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            if (next < 0) return;
            graveyard.add(next);
            cur = next;
        }
    }

    // ---- removal ----

    private void removeExisting(int pfd, String base) {
        removeTree(pfd, base);
        invalidate();
    }

    /** Removes {@code name} under {@code dirfd}, a directory with everything in it, never following a symlink. */
    private void removeTree(int dirfd, String name) {
        int e = sys.unlinkat(dirfd, name, 0);
        if (e == 0 || e == -ENOENT) return;
        if (e != -EISDIR) throw failed("unlinkat", name, e);
        int fd = sys.openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (fd < 0) throw failed("openat", name, fd);
        try {
            List<String> children = new ArrayList<>();
            int r = sys.readdir(fd, (n, t) -> children.add(n));
            if (r < 0) throw failed("getdents64", name, r);
            for (String c : children) removeTree(fd, c);
        } finally {
            sys.close(fd);
        }
        e = sys.unlinkat(dirfd, name, AT_REMOVEDIR);
        if (e < 0 && e != -ENOENT) throw failed("unlinkat", name, e);
    }

    /** Something was removed or replaced: cached resolutions may be stale. */
    private void invalidate() {
        graveyard.addAll(dirs.values());
        dirs.clear();
    }

    private void bury() {
        for (int fd : graveyard) sys.close(fd);
        graveyard.clear();
    }

    // ---- errors ----

    private UnsafeEntryException refuse(String why) {
        return new UnsafeEntryException(layer, current.displayName(), why);
    }

    private StorageException resolveFailed(String path, long negErrno) {
        int e = (int) -negErrno;
        if (e == ELOOP) return refuse("resolving \"" + TarHeader.utf8(path) + "\" met too many symlinks");
        if (e == ENOTDIR) return refuse("its parent \"" + TarHeader.utf8(path) + "\" is not a directory");
        if (e == ENAMETOOLONG) return refuse("its name is too long");
        return failed("openat2", path, negErrno);
    }

    private StorageException failed(String call, String what, long negErrno) {
        return new StorageException("applyDiff", layer, "tar entry \"" + current.displayName() + "\": "
                + new SyscallException(call, TarHeader.utf8(what), (int) -negErrno).getMessage());
    }

    @Override
    public void close() {
        invalidate();
        bury();
        sys.close(rootFd);
        sys.close();
    }
}
