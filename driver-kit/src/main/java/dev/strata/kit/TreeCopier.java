package dev.strata.kit;

import dev.strata.api.IdTranslation;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.fast.Sys;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

import static dev.strata.nativeio.fast.Sys.AT_EMPTY_PATH;
import static dev.strata.nativeio.fast.Sys.AT_SYMLINK_NOFOLLOW;
import static dev.strata.nativeio.fast.Sys.O_CREAT;
import static dev.strata.nativeio.fast.Sys.O_DIRECTORY;
import static dev.strata.nativeio.fast.Sys.O_EXCL;
import static dev.strata.nativeio.fast.Sys.O_NOFOLLOW;
import static dev.strata.nativeio.fast.Sys.O_RDONLY;
import static dev.strata.nativeio.fast.Sys.O_WRONLY;
import static dev.strata.nativeio.fast.Sys.RESOLVE_BENEATH;
import static dev.strata.nativeio.fast.Sys.RESOLVE_NO_SYMLINKS;

/**
 * Copies a tree exactly: modes (setuid, setgid, sticky), ownership, nanosecond mtimes, xattrs, hardlinks,
 * symlinks, fifos, sockets and device nodes, sparse holes. File data goes by FICLONE (a reflink: btrfs, xfs) where
 * the filesystem allows it, else copy_file_range, else read/write; the first failure of a method switches it off
 * for the rest of the copy, as moby's DirCopy does.
 *
 * <p>{@link Method#LINK} copies the directories and hardlinks everything else: a copy that costs no data, for a
 * staged apply ({@link DirectoryStaging}), which only ever replaces a name, never writes into an existing file.
 * An entry the kernel will not link (protected_hardlinks) is copied instead.
 *
 * <p>Directories are copied in parallel (one task per directory), each worker with its own allocation-free
 * {@link Sys}. Everything is resolved relative to the two roots with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS, so
 * a symlink in the source is copied as a symlink and never followed. Two things wait for the parallel pass:
 * hardlinks (every name of an inode must find its first copy made) and directory metadata (a directory's mtime
 * must be set after everything inside it was created), both done in a fixed order.
 */
public final class TreeCopier {
    /** How file data is copied; REFLINK falls back to COPY_FILE_RANGE, then READ_WRITE, as the filesystem allows. */
    public enum Method { REFLINK, COPY_FILE_RANGE, READ_WRITE, LINK }

    private record Linked(String rel, long dev, long ino, Meta meta) {
    }

    /** What is set on a copy after its content: taken from the source's statx. */
    private record Meta(int mode, int uid, int gid, long mtimeNanos, long size, long blocks) {
    }

    private record DirMeta(String rel, int depth, Meta meta) {
    }

    private static final int OWN_UID = dev.strata.nativeio.Kernel.euid(), OWN_GID = Sys.egid();

    private volatile Method method;
    private final int threads;
    private final IdTranslation ids;
    private final ConcurrentLinkedQueue<Linked> linked = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<DirMeta> dirs = new ConcurrentLinkedQueue<>();
    private int srcRoot = -1;
    private int dstRoot = -1;

    public TreeCopier(Method start) {
        this(start, Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
    }

    public TreeCopier(Method start, int threads) {
        this(start, threads, IdTranslation.NONE);
    }

    /**
     * A copier that also shifts every owner by {@code ids}: moby's chown copy, for a layer made with other id maps
     * than its parent. Ownership is set before the mode and the xattrs, so setuid, setgid and file capabilities,
     * which a chown clears, are kept. Not with {@link Method#LINK}: a hardlink shares its owner.
     */
    public TreeCopier(Method start, IdTranslation ids) {
        this(start, Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())), ids);
    }

    private TreeCopier(Method start, int threads, IdTranslation ids) {
        if (start == Method.LINK && !ids.isIdentity()) throw new IllegalArgumentException("hardlinks cannot change owners");
        this.method = start;
        this.threads = threads;
        this.ids = ids;
    }

    /** The method the copy ended with (what the filesystem turned out to allow). */
    public Method method() {
        return method;
    }

    /** Copies the contents and metadata of directory {@code src} into the existing, empty directory {@code dst}. */
    public void copy(Path src, Path dst) {
        try (Fd s = PosixFiles.open(src, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY | PosixFiles.O_NOFOLLOW, 0);
             Fd d = PosixFiles.open(dst, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY | PosixFiles.O_NOFOLLOW, 0)) {
            srcRoot = s.fd();
            dstRoot = d.fd();
            if (isEmpty(srcRoot)) { // the usual staged apply, onto a new layer: no pool, no threads
                try (Sys sys = new Sys()) {
                    setMetadata(sys, dstRoot, null, stat(sys, srcRoot, "", AT_EMPTY_PATH), srcRoot, "");
                }
                return;
            }
            try (ForkJoinPool pool = new ForkJoinPool(threads)) {
                pool.invoke(new DirTask(""));
            }
            try (Sys sys = new Sys()) {
                copyHardlinks(sys);
                List<DirMeta> ordered = new ArrayList<>(dirs);
                ordered.sort(Comparator.comparingInt(DirMeta::depth).reversed().thenComparing(DirMeta::rel));
                for (DirMeta m : ordered) {
                    int fd = open(sys, dstRoot, m.rel(), O_RDONLY | O_DIRECTORY);
                    try {
                        setMetadata(sys, fd, null, m.meta(), srcRoot, m.rel());
                    } finally {
                        sys.close(fd);
                    }
                }
                Meta root = stat(sys, srcRoot, "", AT_EMPTY_PATH);
                setMetadata(sys, dstRoot, null, root, srcRoot, "");
            }
        }
    }

    private static boolean isEmpty(int dirFd) {
        try (Sys sys = new Sys()) {
            int fd = check(sys.openat(dirFd, ".", O_RDONLY | O_DIRECTORY, 0), "openat", ".");
            try {
                boolean[] any = {false};
                check(sys.readdir(fd, (name, type) -> any[0] = true), "getdents64", ".");
                return !any[0];
            } finally {
                sys.close(fd);
            }
        }
    }

    /** Copies one directory's entries; forks a task for each subdirectory. */
    private final class DirTask extends RecursiveAction {
        private final String rel;

        DirTask(String rel) {
            this.rel = rel;
        }

        @Override
        protected void compute() {
            List<DirTask> subdirs = new ArrayList<>();
            try (Sys sys = new Sys()) {
                int src = rel.isEmpty() ? -1 : open(sys, srcRoot, rel, O_RDONLY | O_DIRECTORY);
                int dst = rel.isEmpty() ? -1 : open(sys, dstRoot, rel, O_RDONLY | O_DIRECTORY);
                int s = rel.isEmpty() ? srcRoot : src;
                int d = rel.isEmpty() ? dstRoot : dst;
                try {
                    List<String> names = new ArrayList<>();
                    check(sys.readdir(s, (name, type) -> names.add(name)), "getdents64", rel);
                    names.sort(null);
                    for (String name : names) {
                        String childRel = rel.isEmpty() ? name : rel + "/" + name;
                        Meta m = stat(sys, s, name, AT_SYMLINK_NOFOLLOW);
                        int type = m.mode() & Sys.S_IFMT;
                        if (type == Sys.S_IFDIR) {
                            check(sys.mkdirat(d, name, 0700), "mkdirat", childRel);
                            dirs.add(new DirMeta(childRel, depth(childRel), m));
                            subdirs.add(new DirTask(childRel));
                        } else if (method == Method.LINK && link(sys, s, d, name)) {
                            // shares the inode, metadata and all
                        } else if (type == Sys.S_IFREG && sys.stat.nlink > 1) {
                            linked.add(new Linked(childRel, PosixFiles.makedev(sys.stat.devMajor, sys.stat.devMinor), sys.stat.ino, m));
                        } else {
                            copyEntry(sys, s, d, name, childRel, m);
                        }
                    }
                } finally {
                    if (src >= 0) sys.close(src);
                    if (dst >= 0) sys.close(dst);
                }
            }
            invokeAll(subdirs);
        }
    }

    /**
     * Hardlinks an entry; false when the kernel refuses (EPERM: protected_hardlinks; EXDEV: the staging directory is
     * under another project quota), so it is copied instead.
     */
    private static boolean link(Sys sys, int s, int d, String name) {
        int r = sys.linkat(s, name, d, name);
        if (r == -Errno.EPERM || r == -Errno.EXDEV) return false;
        check(r, "linkat", name);
        return true;
    }

    private void copyEntry(Sys sys, int s, int d, String name, String rel, Meta m) {
        switch (m.mode() & Sys.S_IFMT) {
            case Sys.S_IFREG -> copyFile(sys, s, d, name, rel, m);
            case Sys.S_IFLNK -> {
                String target = sys.readlinkat(s, name);
                if (target == null) throw new SyscallException("readlinkat", rel, sys.lastErrno());
                check(sys.symlinkat(target, d, name), "symlinkat", rel);
                setMetadata(sys, d, name, m, s, name);
            }
            case Sys.S_IFCHR, Sys.S_IFBLK, Sys.S_IFIFO, Sys.S_IFSOCK -> {
                // sys.stat still holds this entry's statx: nothing ran statx since.
                long rdev = PosixFiles.makedev(sys.stat.rdevMajor, sys.stat.rdevMinor);
                check(sys.mknodat(d, name, (m.mode() & Sys.S_IFMT) | (m.mode() & 0777), rdev), "mknodat", rel);
                setMetadata(sys, d, name, m, s, name);
            }
            default -> throw new StorageException("copy", rel, "unknown file type " + Integer.toOctalString(m.mode() & Sys.S_IFMT));
        }
    }

    private void copyFile(Sys sys, int s, int d, String name, String rel, Meta m) {
        int in = check(sys.openat(s, name, O_RDONLY | O_NOFOLLOW, 0), "openat", rel);
        try {
            int out = check(sys.openat(d, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600), "openat", rel);
            try {
                if (m.size() > 0) copyData(sys, in, out, rel, m);
                setMetadata(sys, out, null, m, in, null);
            } finally {
                sys.close(out);
            }
        } finally {
            sys.close(in);
        }
    }

    /** Hardlinked files, in path order: the first name of each inode is copied, the others are linked to it. */
    private void copyHardlinks(Sys sys) {
        List<Linked> all = new ArrayList<>(linked);
        all.sort(Comparator.comparing(Linked::rel));
        Map<List<Long>, String> first = new LinkedHashMap<>();
        for (Linked l : all) {
            String original = first.putIfAbsent(List.of(l.dev(), l.ino()), l.rel());
            int slash = l.rel().lastIndexOf('/');
            String parent = slash < 0 ? "" : l.rel().substring(0, slash);
            String name = l.rel().substring(slash + 1);
            int s = parent.isEmpty() ? srcRoot : open(sys, srcRoot, parent, O_RDONLY | O_DIRECTORY);
            int d = parent.isEmpty() ? dstRoot : open(sys, dstRoot, parent, O_RDONLY | O_DIRECTORY);
            try {
                if (original == null) copyFile(sys, s, d, name, l.rel(), l.meta());
                else check(sys.linkat(dstRoot, original, d, name), "linkat", l.rel() + " -> " + original);
            } finally {
                if (s != srcRoot) sys.close(s);
                if (d != dstRoot) sys.close(d);
            }
        }
    }

    private void copyData(Sys sys, int in, int out, String rel, Meta m) {
        if (method == Method.LINK) { // a file the kernel would not link: copy it, leaving LINK on for the rest
            copyRanges(sys, in, out, rel, m);
            return;
        }
        if (method == Method.REFLINK) {
            try {
                Ioctl.call(new Fd(out, rel), PosixFiles.FICLONE, in, "FICLONE");
                return;
            } catch (SyscallException e) {
                if (!unsupported(e)) throw e;
                method = Method.COPY_FILE_RANGE;
            }
        }
        if (method == Method.COPY_FILE_RANGE) {
            try {
                copyRanges(sys, in, out, rel, m);
                return;
            } catch (SyscallException e) {
                if (!unsupported(e)) throw e;
                method = Method.READ_WRITE;
                check(sys.ftruncate(out, 0), "ftruncate", rel);
            }
        }
        byte[] buf = new byte[1 << 17];
        long done = 0;
        while (done < m.size()) {
            long n = sys.read(in, buf, 0, buf.length);
            if (n < 0) throw new SyscallException("read", rel, (int) -n);
            if (n == 0) break;
            check(sys.writeFully(out, buf, 0, (int) n), "write", rel);
            done += n;
        }
    }

    /** copy_file_range over the data extents only, so holes stay holes. */
    private static void copyRanges(Sys sys, int in, int out, String rel, Meta m) {
        long size = m.size();
        boolean sparse = m.blocks() * 512 < size;
        Fd inFd = new Fd(in, rel);
        Fd outFd = new Fd(out, rel);
        long pos = 0;
        while (pos < size) {
            long data = sparse ? sys.lseek(in, pos, Sys.SEEK_DATA) : pos;
            if (data < 0) {
                if (data == -Errno.ENXIO) break; // only a hole remains
                throw new SyscallException("lseek", rel, (int) -data);
            }
            long hole = sparse ? check(sys.lseek(in, data, Sys.SEEK_HOLE), "lseek", rel) : size;
            long off = data;
            while (off < hole) {
                long n = PosixFiles.copyFileRange(inFd, off, outFd, off, hole - off);
                if (n == 0) break;
                off += n;
            }
            pos = hole;
        }
        if (sparse) check(sys.ftruncate(out, size), "ftruncate", rel);
    }

    private static boolean unsupported(SyscallException e) {
        int n = e.errno();
        return n == Errno.EOPNOTSUPP || n == Errno.EXDEV || n == Errno.EINVAL || n == Errno.ENOSYS || n == Errno.ENOTTY
                || n == Errno.EBADF || n == Errno.EPERM;
    }

    /**
     * Ownership first, then mode (chown clears setuid/setgid), then xattrs (chown clears security.capability), then
     * mtime. {@code name} null means the open file {@code fd} itself; otherwise a name under the directory {@code fd}
     * (symlinks and nodes). The xattrs are read from {@code srcFd}/{@code srcName} the same way.
     */
    private static void setMetadata(Sys sys, int fd, String name, Meta m, int srcFd, String srcName) {
        boolean symlink = (m.mode() & Sys.S_IFMT) == Sys.S_IFLNK;
        String what = name == null ? "fd " + fd : name;
        // What we just made is ours already: most layers are owned by root, so most chowns are skipped.
        boolean chown = m.uid() != OWN_UID || m.gid() != OWN_GID;
        if (name == null) {
            if (chown) check(sys.fchown(fd, m.uid(), m.gid()), "fchown", what);
            check(sys.fchmod(fd, m.mode() & 07777), "fchmod", what);
        } else {
            if (chown) check(sys.lchownat(fd, name, m.uid(), m.gid()), "fchownat", what);
            if (!symlink) check(sys.fchmodat(fd, name, m.mode() & 07777), "fchmodat", what);
        }
        String srcEntry = srcName == null || srcName.isEmpty() ? null : srcName;
        for (String x : sys.xattr.list(srcFd, srcEntry)) {
            byte[] v = sys.xattr.get(srcFd, srcEntry, x);
            if (v == null) continue;
            int r = name == null ? sys.xattr.fset(fd, x, v) : sys.xattr.lsetAt(fd, name, x, v);
            check(r, "setxattr " + x, what);
        }
        check(sys.utimens(fd, name, Long.MIN_VALUE, m.mtimeNanos(), name == null ? 0 : AT_SYMLINK_NOFOLLOW), "utimensat", what);
    }

    /** The source's metadata, with its owner as the copy gets it. */
    private Meta stat(Sys sys, int dirfd, String name, int flags) {
        check(sys.statx(dirfd, name, flags), "statx", name);
        Sys.StatBuf s = sys.stat;
        return new Meta(s.mode, ids.uid(s.uid), ids.gid(s.gid), s.mtimeNanos, s.size, s.blocks);
    }

    /** Opens a directory below a root, never through a symlink. */
    private static int open(Sys sys, int root, String rel, int flags) {
        return check(sys.openat2(root, rel, flags | O_NOFOLLOW, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), "openat2", rel);
    }

    private static int depth(String rel) {
        int n = 1;
        for (int i = 0; i < rel.length(); i++) if (rel.charAt(i) == '/') n++;
        return n;
    }

    private static int check(int r, String call, String what) {
        if (r < 0) throw new SyscallException(call, what, -r);
        return r;
    }

    private static long check(long r, String call, String what) {
        if (r < 0) throw new SyscallException(call, what, (int) -r);
        return r;
    }
}
