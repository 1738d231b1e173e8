package dev.strata.archive;

import dev.strata.api.IdTranslation;

import dev.strata.api.Change;
import dev.strata.api.StorageException;
import dev.strata.nativeio.fast.Sys;
import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarWriter;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.strata.archive.EntryNames.META;
import static dev.strata.archive.EntryNames.OPAQUE;
import static dev.strata.archive.EntryNames.WH;
import static dev.strata.nativeio.fast.Sys.*;

/**
 * Writes layer tars from a directory tree: the whole tree, a list of changes, or an overlay/aufs upper directory
 * with its whiteouts turned into OCI ones. Entries come in a deterministic order (each directory's names sorted by
 * their bytes, parents before children, as Go's filepath.Walk gives them) with exact metadata; hardlinked files
 * become tar links to the first path seen; sparse files are written with their data regions only.
 *
 * <p>Single-threaded (it owns a {@link Sys}); one instance per tar.
 */
final class TreeWriter implements AutoCloseable {
    private static final long CHANGE_PARENT = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

    private final Sys sys = new Sys();
    private final TarWriter tar;
    private final TarHeader h = new TarHeader();
    private final Map<InodeKey, String> links = new HashMap<>();
    private final boolean noatime = dev.strata.nativeio.Kernel.isRoot();
    private String what = "";

    /** How on-disk whiteouts are read when writing an upper directory; null for a plain tree. */
    private WhiteoutFormat upper;
    private List<Path> lowers;

    private record InodeKey(int major, int minor, long ino) {
    }

    /** How owners on disk become the owners written: container ids for a layer made with id maps. */
    private final IdTranslation ids;

    TreeWriter(OutputStream out) {
        this(out, IdTranslation.NONE);
    }

    TreeWriter(OutputStream out, IdTranslation ids) {
        this.tar = new TarWriter(out);
        this.ids = ids;
    }

    /** The whole tree under {@code root}, its root directory first as "./". */
    void tree(Path root) {
        what = root.toString();
        int fd = openRoot(root);
        try {
            statOrThrow(fd, "", AT_EMPTY_PATH);
            header(fd, null, "./", true);
            tar.writeHeader(h);
            walk(fd, "");
        } finally {
            sys.close(fd);
        }
        tar.finish();
    }

    /** An overlay or aufs upper directory, its on-disk whiteouts written as OCI ones. */
    void upper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowerDirs) {
        what = upperDir.toString();
        this.upper = onDisk;
        this.lowers = lowerDirs;
        int fd = openRoot(upperDir);
        try {
            walk(fd, "");
        } finally {
            sys.close(fd);
        }
        tar.finish();
    }

    /**
     * moby's ExportChanges: added and modified paths as entries (a directory by itself, not its content), deleted
     * ones as {@code .wh.<name>}, in path order.
     */
    void changes(Path root, List<Change> changes) {
        what = root.toString();
        int rootFd = openRoot(root);
        List<Change> sorted = new ArrayList<>(changes);
        sorted.sort((a, b) -> TarHeader.raw(a.path()).compareTo(TarHeader.raw(b.path())));
        String lastParent = null;
        int parentFd = -1;
        try {
            for (Change c : sorted) {
                String rel = TarHeader.raw(c.path()).substring(1);
                if (rel.isEmpty()) continue;
                String parent = EntryNames.parent(rel), base = EntryNames.base(rel);
                if (c.kind() == Change.Kind.DELETE) {
                    h.reset();
                    h.name = (parent.isEmpty() ? "" : parent + "/") + WH + base;
                    h.type = TarHeader.REGULAR;
                    tar.writeHeader(h);
                    continue;
                }
                if (!parent.equals(lastParent)) {
                    if (parentFd >= 0 && parentFd != rootFd) sys.close(parentFd);
                    parentFd = parent.isEmpty() ? rootFd : sys.openat2(rootFd, parent, O_PATH | O_DIRECTORY, 0, CHANGE_PARENT);
                    if (parentFd < 0) throw new SyscallException("openat2", root + "/" + TarHeader.utf8(parent), -parentFd);
                    lastParent = parent;
                }
                int r = sys.statx(parentFd, base, AT_SYMLINK_NOFOLLOW);
                if (r == -ENOENT) throw new StorageException("diff", what, "changed path " + c.path() + " vanished while it was archived");
                if (r < 0) throw new SyscallException("statx", what + c.path(), -r);
                entry(parentFd, base, rel, false);
            }
        } finally {
            if (parentFd >= 0 && parentFd != rootFd) sys.close(parentFd);
            sys.close(rootFd);
        }
        tar.finish();
    }

    private int openRoot(Path root) {
        int fd = sys.openat(-100, root.toString(), O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0) throw new SyscallException("open", root.toString(), -fd);
        return fd;
    }

    /** A directory entry: its raw name and d_type (a hint only: DT_UNKNOWN where the filesystem keeps none). */
    private record Dirent(String name, int type) implements Comparable<Dirent> {
        @Override
        public int compareTo(Dirent o) {
            return name.compareTo(o.name); // ISO-8859-1 strings compare as unsigned bytes
        }
    }

    private void walk(int dirFd, String rel) {
        List<Dirent> entries = new ArrayList<>();
        int r = sys.readdir(dirFd, (n, t) -> entries.add(new Dirent(n, t)));
        if (r < 0) throw new SyscallException("getdents64", what + "/" + TarHeader.utf8(rel), -r);
        entries.sort(null);
        for (Dirent e : entries) {
            String name = e.name();
            if (upper != null && rel.isEmpty() && name.startsWith(META) && !name.equals(OPAQUE)) continue; // aufs metadata
            String path = rel.isEmpty() ? name : rel + "/" + name;
            if (e.type() == DT_REG && !(upper == WhiteoutFormat.AUFS && name.startsWith(WH))) {
                // a regular file by d_type: opened first and stat'd through its fd, one path walk instead of two
                int fd = openData(dirFd, name);
                if (fd == -ENOENT) continue; // removed while we walked
                if (fd >= 0) {
                    int s = sys.statx(fd, "", AT_EMPTY_PATH);
                    if (s < 0) {
                        sys.close(fd);
                        throw new SyscallException("statx", what + "/" + TarHeader.utf8(path), -s);
                    }
                    if (sys.stat.type() == S_IFREG) {
                        regular(dirFd, name, path, fd);
                        continue;
                    }
                    sys.close(fd); // replaced since readdir: looked at by name below
                }
                // an open that failed (a symlink or socket now, no permission) is settled by name below
            }
            int s = sys.statx(dirFd, name, AT_SYMLINK_NOFOLLOW);
            if (s == -ENOENT) continue; // removed while we walked
            if (s < 0) throw new SyscallException("statx", what + "/" + TarHeader.utf8(path), -s);
            entry(dirFd, name, path, true);
        }
    }

    /**
     * Opens a file to read its data: O_NOFOLLOW and O_NONBLOCK, as GNU tar does, so that a name replaced since it was
     * listed by a symlink is not followed and a fifo is not waited on; O_NOATIME where allowed. Returns the fd or -errno.
     */
    private int openData(int dirFd, String name) {
        int fd = sys.openat(dirFd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | (noatime ? O_NOATIME : 0), 0);
        if (fd == -EPERM && noatime) fd = sys.openat(dirFd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
        return fd;
    }

    /** Writes the entry whose statx is in {@code sys.stat}; recurses into directories when {@code recurse}. */
    private void entry(int dirFd, String name, String rel, boolean recurse) {
        Sys.StatBuf st = sys.stat;
        int type = st.type();
        if (type == S_IFSOCK) return; // tar has no sockets (moby skips them too)
        if (upper != null && type == S_IFCHR && st.rdevMajor == 0 && st.rdevMinor == 0
                && (upper == WhiteoutFormat.OVERLAY || upper == WhiteoutFormat.OVERLAY_USERXATTR)) {
            // an overlay whiteout: a regular empty .wh.<name>, mode 0600, the node's owner and time (moby's ConvertWrite)
            h.reset();
            h.name = EntryNames.parent(rel).isEmpty() ? WH + name : EntryNames.parent(rel) + "/" + WH + name;
            h.type = TarHeader.REGULAR;
            h.mode = 0600;
            h.uid = Integer.toUnsignedLong(ids.uid(st.uid));
            h.gid = Integer.toUnsignedLong(ids.gid(st.gid));
            h.mtimeNanos = st.mtimeNanos;
            tar.writeHeader(h);
            return;
        }
        if (upper == WhiteoutFormat.AUFS && name.startsWith(WH)) {
            // an aufs whiteout (often a hardlink to .wh..wh.aufs): always its own empty regular entry
            header(dirFd, name, rel, false);
            h.type = TarHeader.REGULAR;
            h.size = 0;
            h.linkName = "";
            tar.writeHeader(h);
            return;
        }
        switch (type) {
            case S_IFDIR -> {
                boolean opaque = upper != null && isOpaque(dirFd, name);
                header(dirFd, name, rel + "/", true);
                tar.writeHeader(h);
                if (opaque && lowerHasDirectory(rel)) {
                    long uid = h.uid, gid = h.gid, mtime = h.mtimeNanos;
                    int mode = h.mode & 0777;
                    h.reset();
                    h.name = rel + "/" + OPAQUE;
                    h.type = TarHeader.REGULAR;
                    h.mode = mode;
                    h.uid = uid;
                    h.gid = gid;
                    h.mtimeNanos = mtime;
                    tar.writeHeader(h);
                }
                if (recurse) {
                    int fd = sys.openat(dirFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
                    if (fd < 0) throw new SyscallException("openat", what + "/" + TarHeader.utf8(rel), -fd);
                    try {
                        walk(fd, rel);
                    } finally {
                        sys.close(fd);
                    }
                }
            }
            case S_IFREG -> regular(dirFd, name, rel, -1);
            default -> {
                header(dirFd, name, rel, false);
                tar.writeHeader(h);
            }
        }
    }

    /** A regular file whose statx is in {@code sys.stat}; {@code fd} is it open (closed here), or -1 to open it. */
    private void regular(int dirFd, String name, String rel, int fd) {
        Sys.StatBuf st = sys.stat;
        if (st.nlink > 1) {
            InodeKey key = new InodeKey(st.devMajor, st.devMinor, st.ino);
            String first = links.putIfAbsent(key, rel);
            if (first != null) {
                if (fd >= 0) sys.close(fd);
                header(dirFd, name, rel, false);
                h.type = TarHeader.HARDLINK;
                h.linkName = first;
                h.size = 0;
                h.xattrs.clear();
                tar.writeHeader(h);
                return;
            }
        }
        long size = st.size, blocks = st.blocks;
        if (fd < 0) fd = openData(dirFd, name);
        if (fd < 0) throw new SyscallException("openat", what + "/" + TarHeader.utf8(rel), -fd);
        try {
            header(fd, null, rel, false);
            h.size = size;
            if (blocks * 512 < size) h.sparse = dataRegions(fd, size, rel);
            tar.writeHeader(h);
            final int in = fd;
            TarWriter.Source src = (b, off, len) -> {
                long n = sys.read(in, b, off, len);
                if (n < 0) throw new IOException(new SyscallException("read", what + "/" + TarHeader.utf8(rel), (int) -n).getMessage());
                return n == 0 ? -1 : (int) n;
            };
            try {
                if (h.sparse == null) {
                    tar.writeData(src, size);
                } else {
                    for (int i = 0; i < h.sparse.length; i += 2) {
                        if (h.sparse[i + 1] == 0) continue;
                        long p = sys.lseek(fd, h.sparse[i], SEEK_SET);
                        if (p < 0) throw new SyscallException("lseek", what + "/" + TarHeader.utf8(rel), (int) -p);
                        tar.writeData(src, h.sparse[i + 1]);
                    }
                }
            } catch (IOException e) {
                throw new StorageException("diff", what, TarHeader.utf8(rel) + ": " + e.getMessage() + " (did the file change while it was archived?)", e);
            }
        } finally {
            sys.close(fd);
        }
    }

    /** The data regions of a file with holes (SEEK_DATA/SEEK_HOLE), with a final empty region at EOF as GNU tar writes. */
    private long[] dataRegions(int fd, long size, String rel) {
        List<Long> map = new ArrayList<>();
        long pos = 0;
        while (pos < size) {
            long data = sys.lseek(fd, pos, SEEK_DATA);
            if (data == -ENXIO) break;
            if (data < 0) return null; // no SEEK_DATA here: write it whole
            long hole = sys.lseek(fd, data, SEEK_HOLE);
            if (hole < 0) return null;
            map.add(data);
            map.add(Math.min(hole, size) - data);
            pos = hole;
        }
        if (map.size() == 2 && map.get(0) == 0 && map.get(1) == size) return null; // no hole after all
        if (map.isEmpty() || map.get(map.size() - 2) + map.get(map.size() - 1) < size) {
            map.add(size);
            map.add(0L);
        }
        long[] a = new long[map.size()];
        for (int i = 0; i < a.length; i++) a[i] = map.get(i);
        return a;
    }

    /**
     * Fills {@link #h} from {@code sys.stat} for {@code name} under {@code fd} ({@code name} null: {@code fd} is the
     * file itself; "" with a directory fd: the directory itself).
     */
    private void header(int fd, String name, String tarName, boolean isDir) {
        Sys.StatBuf st = sys.stat;
        int mode = st.mode, uid = st.uid, gid = st.gid, rmaj = st.rdevMajor, rmin = st.rdevMinor;
        long mtime = st.mtimeNanos;
        h.reset();
        h.name = tarName;
        h.mode = mode & 07777;
        h.uid = Integer.toUnsignedLong(ids.uid(uid));
        h.gid = Integer.toUnsignedLong(ids.gid(gid));
        h.mtimeNanos = mtime;
        switch (mode & S_IFMT) {
            case S_IFDIR -> h.type = TarHeader.DIRECTORY;
            case S_IFREG -> h.type = TarHeader.REGULAR;
            case S_IFLNK -> {
                h.type = TarHeader.SYMLINK;
                String target = sys.readlinkat(fd, name);
                if (target == null) throw new SyscallException("readlinkat", what + "/" + TarHeader.utf8(tarName), sys.lastErrno());
                h.linkName = target;
            }
            case S_IFCHR, S_IFBLK -> {
                h.type = (mode & S_IFMT) == S_IFCHR ? TarHeader.CHAR : TarHeader.BLOCK;
                h.devMajor = rmaj;
                h.devMinor = rmin;
            }
            case S_IFIFO -> h.type = TarHeader.FIFO;
            default -> throw new StorageException("diff", what, TarHeader.utf8(tarName) + ": unsupported file type 0" + Integer.toOctalString(mode & S_IFMT));
        }
        // xattrs byte-exact; overlayfs' own (trusted.overlay.*, user.overlay.*) never leave the layer
        String xname = name == null ? null : name.isEmpty() ? "" : name;
        List<String> names = xname == null ? sys.xattr.list(fd, null) : sys.xattr.list(fd, xname);
        for (String x : names) {
            if (x.startsWith("trusted.overlay.") || x.startsWith("user.overlay.")) continue;
            byte[] v = xname == null ? sys.xattr.get(fd, null, x) : sys.xattr.get(fd, xname, x);
            if (v != null) h.xattrs.put(x, v);
        }
    }

    private boolean isOpaque(int dirFd, String name) {
        String key = upper == WhiteoutFormat.OVERLAY_USERXATTR ? "user.overlay.opaque" : "trusted.overlay.opaque";
        if (upper == WhiteoutFormat.AUFS) return false; // aufs keeps its .wh..wh..opq file, written as it is
        byte[] v = sys.xattr.get(dirFd, name, key);
        return v != null && v.length == 1 && v[0] == 'y';
    }

    /** Whether an opaque marker matters: some lower has a directory there (no lowers given: assume so). */
    private boolean lowerHasDirectory(String rel) {
        if (lowers == null) return true;
        for (Path lower : lowers) {
            int fd = sys.openat(-100, lower.toString(), O_PATH | O_DIRECTORY, 0);
            if (fd < 0) continue;
            try {
                int d = sys.openat2(fd, rel, O_PATH | O_DIRECTORY, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                if (d >= 0) {
                    sys.close(d);
                    return true;
                }
            } finally {
                sys.close(fd);
            }
        }
        return false;
    }

    private void statOrThrow(int fd, String name, int flags) {
        int r = sys.statx(fd, name, flags);
        if (r < 0) throw new SyscallException("statx", what, -r);
    }

    @Override
    public void close() {
        sys.close();
    }
}
