package dev.strata.driver.vfs;

import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Xattrs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.strata.nativeio.PosixFiles.AT_SYMLINK_NOFOLLOW;
import static dev.strata.nativeio.PosixFiles.O_DIRECTORY;
import static dev.strata.nativeio.PosixFiles.O_NOFOLLOW;
import static dev.strata.nativeio.PosixFiles.O_RDONLY;

/**
 * Copies a tree exactly: modes (setuid, setgid, sticky), ownership, nanosecond times, xattrs, hardlinks,
 * symlinks, fifos, sockets and device nodes, sparse holes. File data goes by FICLONE (a reflink: btrfs, xfs) where
 * the filesystem allows it, else copy_file_range, else a read/write copy; the first failure of a method switches
 * it off for the rest of the copy, as moby's DirCopy does.
 *
 * <p>Everything is resolved relative to open directory descriptors with O_NOFOLLOW, so a symlink in the source
 * is copied as a symlink and never followed.
 */
final class TreeCopier {
    enum Method { REFLINK, COPY_FILE_RANGE, READ_WRITE }

    private record Inode(long dev, long ino) {
    }

    private Method method;
    private final Map<Inode, String> firstLinks = new HashMap<>();
    private long files;
    private long bytes;

    TreeCopier(Method start) {
        this.method = start;
    }

    /** The method the last file was copied with (what the filesystem turned out to allow). */
    Method method() {
        return method;
    }

    long files() {
        return files;
    }

    long bytes() {
        return bytes;
    }

    /** Copies the contents and metadata of directory {@code src} into the existing, empty directory {@code dst}. */
    void copy(Path src, Path dst) {
        try (Fd s = PosixFiles.open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
             Fd d = PosixFiles.open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)) {
            copyChildren(s, d, d, "");
            Stat root = PosixFiles.statx(s, "", PosixFiles.AT_EMPTY_PATH);
            applyMetadata(d, "", root, true, s, "");
        }
    }

    private void copyChildren(Fd srcDir, Fd dstDir, Fd dstRoot, String rel) {
        for (String name : list(srcDir)) {
            String childRel = rel.isEmpty() ? name : rel + "/" + name;
            Stat st = PosixFiles.statx(srcDir, name, AT_SYMLINK_NOFOLLOW);
            switch (st.type()) {
                case Stat.S_IFDIR -> {
                    PosixFiles.mkdirat(dstDir, name, 0700);
                    try (Fd s = PosixFiles.openat(srcDir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
                         Fd d = PosixFiles.openat(dstDir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)) {
                        copyChildren(s, d, dstRoot, childRel);
                        applyMetadata(d, "", st, true, s, "");
                    }
                    continue;
                }
                case Stat.S_IFREG -> {
                    if (st.nlink() > 1) {
                        Inode key = new Inode(st.dev(), st.ino());
                        String first = firstLinks.putIfAbsent(key, childRel);
                        if (first != null) {
                            PosixFiles.linkat(dstRoot, first, dstDir, name, 0);
                            continue;
                        }
                    }
                    copyFile(srcDir, dstDir, name, st);
                }
                case Stat.S_IFLNK -> PosixFiles.symlinkat(PosixFiles.readlinkat(srcDir, name), dstDir, name);
                case Stat.S_IFCHR, Stat.S_IFBLK, Stat.S_IFIFO, Stat.S_IFSOCK ->
                        PosixFiles.mknodat(dstDir, name, st.type() | (st.permissions() & 0777), st.rdev());
                default -> throw new StorageException("copy", srcDir.what() + "/" + name, "unknown file type " + Integer.toOctalString(st.type()));
            }
            applyMetadata(dstDir, name, st, false, srcDir, name);
            files++;
        }
    }

    private void copyFile(Fd srcDir, Fd dstDir, String name, Stat st) {
        try (Fd in = PosixFiles.openat(srcDir, name, O_RDONLY | O_NOFOLLOW, 0);
             Fd out = PosixFiles.openat(dstDir, name, PosixFiles.O_WRONLY | PosixFiles.O_CREAT | PosixFiles.O_EXCL | O_NOFOLLOW, 0600)) {
            if (st.size() > 0) copyData(in, out, st);
            bytes += st.size();
        }
    }

    private void copyData(Fd in, Fd out, Stat st) {
        if (method == Method.REFLINK) {
            try {
                PosixFiles.ficlone(out, in);
                return;
            } catch (SyscallException e) {
                if (!unsupported(e)) throw e;
                method = Method.COPY_FILE_RANGE;
            }
        }
        if (method == Method.COPY_FILE_RANGE) {
            try {
                copyRanges(in, out, st);
                return;
            } catch (SyscallException e) {
                if (!unsupported(e)) throw e;
                method = Method.READ_WRITE;
                PosixFiles.ftruncate(out, 0);
            }
        }
        try (FileChannel src = FileChannel.open(in.path(), StandardOpenOption.READ);
             FileChannel dst = FileChannel.open(out.path(), StandardOpenOption.WRITE)) {
            long pos = 0;
            while (pos < st.size()) {
                long n = src.transferTo(pos, st.size() - pos, dst);
                if (n <= 0) break;
                pos += n;
            }
        } catch (IOException e) {
            throw new StorageException("copy", in.what(), e.toString(), e);
        }
    }

    /** copy_file_range over the data extents only, so holes stay holes. */
    private static void copyRanges(Fd in, Fd out, Stat st) {
        long size = st.size();
        boolean sparse = st.blocks() * 512 < size;
        long pos = 0;
        while (pos < size) {
            long data = sparse ? PosixFiles.lseek(in, pos, PosixFiles.SEEK_DATA) : pos;
            if (data < 0) break; // only a hole remains
            long hole = sparse ? PosixFiles.lseek(in, data, PosixFiles.SEEK_HOLE) : size;
            long off = data;
            while (off < hole) {
                long n = PosixFiles.copyFileRange(in, off, out, off, hole - off);
                if (n == 0) break;
                off += n;
            }
            pos = hole;
        }
        if (sparse) PosixFiles.ftruncate(out, size);
    }

    private static boolean unsupported(SyscallException e) {
        int n = e.errno();
        return n == Errno.EOPNOTSUPP || n == Errno.EXDEV || n == Errno.EINVAL || n == Errno.ENOSYS || n == Errno.ENOTTY
                || n == Errno.EBADF || n == Errno.EPERM;
    }

    /**
     * Ownership first, then mode (chown clears setuid/setgid), then xattrs (chown clears security.capability),
     * then times. An empty {@code name} means the directory {@code dir} itself.
     */
    private static void applyMetadata(Fd dir, String name, Stat st, boolean isDirFd, Fd srcDir, String srcName) {
        if (name.isEmpty()) {
            PosixFiles.fchownat(dir, "", st.uid(), st.gid(), PosixFiles.AT_EMPTY_PATH);
            PosixFiles.fchmod(dir, st.permissions());
            for (String x : Xattrs.list(srcDir)) {
                byte[] v = Xattrs.get(srcDir, x);
                if (v != null) Xattrs.set(dir, x, v);
            }
            // The /proc/self/fd link resolves to the directory itself.
            PosixFiles.utimensat(null, dir.path().toString(), st.atimeNanos(), st.mtimeNanos(), 0);
            return;
        }
        PosixFiles.fchownat(dir, name, st.uid(), st.gid(), AT_SYMLINK_NOFOLLOW);
        if (!st.isSymlink()) PosixFiles.fchmodat(dir, name, st.permissions(), 0);
        Path src = srcDir.path().resolve(srcName);
        Path dst = dir.path().resolve(name);
        for (String x : Xattrs.list(src)) {
            byte[] v = Xattrs.get(src, x);
            if (v != null) Xattrs.set(dst, x, v);
        }
        PosixFiles.utimensat(dir, name, st.atimeNanos(), st.mtimeNanos(), AT_SYMLINK_NOFOLLOW);
    }

    private static List<String> list(Fd dir) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir.path())) {
            for (Path p : ds) names.add(p.getFileName().toString());
        } catch (IOException e) {
            throw new StorageException("readdir", dir.what(), e.toString(), e);
        }
        names.sort(null);
        return names;
    }
}
