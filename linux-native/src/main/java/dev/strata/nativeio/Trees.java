package dev.strata.nativeio;

import dev.strata.api.StorageException;

import dev.strata.nativeio.fast.Sys;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whole-tree operations on layer directories, descriptor-relative: removing one, moby's directory.Size, and the
 * inode walk that {@code strata du} and the snapshotter's Usage count with.
 */
public final class Trees {
    private Trees() {
    }

    /** A name as {@link Sys} takes it: its UTF-8 bytes, one char each. */
    private static String raw(String name) {
        return new String(name.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /**
     * Deletes {@code root} and everything below it, descriptor-relative (openat with O_NOFOLLOW, getdents64,
     * unlinkat), so a symlink swapped in while it runs is removed, never followed. It does not cross into another
     * filesystem: a mount left below (the driver unmounts before) is refused rather than emptied.
     */
    public static void delete(Path root) {
        Path parent = root.toAbsolutePath().getParent();
        String name = root.getFileName().toString();
        try (Fd dir = PosixFiles.open(parent, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0)) {
            Stat st;
            try {
                st = PosixFiles.statx(dir, name, PosixFiles.AT_SYMLINK_NOFOLLOW);
            } catch (SyscallException e) {
                if (e.is(Errno.ENOENT)) return;
                throw e;
            }
            if (st.isDirectory()) removeDir(dir, name, st.dev());
            else PosixFiles.unlinkat(dir, name, 0);
        } catch (SyscallException e) {
            throw new StorageException("remove", root.toString(), e.getMessage(), e);
        }
    }

    private static void removeDir(Fd parent, String name, long dev) {
        try (Fd dir = PosixFiles.openat(parent, name, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY | PosixFiles.O_NOFOLLOW, 0)) {
            long here = PosixFiles.statx(dir, "", PosixFiles.AT_EMPTY_PATH).dev();
            if (here != dev) throw new StorageException("remove", dir.what(), "is a mount point; refusing to delete into it");
            for (DirEntries.Entry e : DirEntries.list(dir)) {
                int type = e.type();
                if (type == DirEntries.DT_UNKNOWN) {
                    type = PosixFiles.statx(dir, e.name(), PosixFiles.AT_SYMLINK_NOFOLLOW).isDirectory() ? DirEntries.DT_DIR : DirEntries.DT_REG;
                }
                if (type == DirEntries.DT_DIR) removeDir(dir, e.name(), dev);
                else PosixFiles.unlinkIfExists(dir, e.name(), 0);
            }
        }
        PosixFiles.unlinkIfExists(parent, name, PosixFiles.AT_REMOVEDIR);
    }

    public static void deleteQuietly(Path root) {
        try {
            delete(root);
        } catch (RuntimeException ignored) {
            // best effort: a leftover scratch directory is removed again at the next open
        }
    }

    /** What a walk reports of each inode it meets: its type, apparent size and allocated 512-byte blocks. */
    @FunctionalInterface
    public interface InodeSink {
        void inode(boolean directory, long size, long blocks);
    }

    /**
     * moby's directory.Size: the sizes of everything but directories, each inode once (hard links), symlinks
     * counting their target's length. Descriptor-relative (openat, getdents64, statx), without following symlinks,
     * through {@link Sys} (no allocation a call).
     */
    public static long size(Path root) {
        return size(root, Set.of());
    }

    /** {@link #size(Path)}, leaving out the top-level entries named in {@code skipTop} (aufs's own bookkeeping). */
    public static long size(Path root, Set<String> skipTop) {
        long[] total = {0};
        try {
            walk(root, new Walk(false, false, skipTop, (directory, size, blocks) -> {
                if (!directory) total[0] += size;
            }));
        } catch (SyscallException e) {
            throw new StorageException("size", root.toString(), e.getMessage(), e);
        }
        return total[0];
    }

    /**
     * Every inode under {@code root}, {@code root} included, reported once to {@code sink} (a file with several
     * links once), as containerd's fs.DiskUsage and du(1) count them. With {@code sameFilesystem}, an entry on
     * another device (a mount below root) is left out with everything under it. Descriptor-relative, never
     * following symlinks; an entry removed while the walk runs is passed over. Throws {@link SyscallException}.
     */
    public static void inodes(Path root, boolean sameFilesystem, InodeSink sink) {
        walk(root, new Walk(true, sameFilesystem, Set.of(), sink));
    }

    /**
     * How a walk goes: whether directories are stat'ed and reported (the size walk needs only their entries), and
     * whether it stays on root's filesystem. Inodes are told apart by number alone, so a walk that crosses into a
     * mount may take two files for one.
     */
    private record Walk(boolean directories, boolean sameFilesystem, Set<String> skipTop, InodeSink sink) {
    }

    private static void walk(Path root, Walk how) {
        try (Sys sys = new Sys()) {
            int fd = sys.openat(FileConstants.AT_FDCWD, raw(root.toString()), FileConstants.O_RDONLY | FileConstants.O_DIRECTORY, 0);
            if (fd < 0) throw new SyscallException("open", root.toString(), -fd);
            try {
                long dev = -1;
                if (how.directories() || how.sameFilesystem()) {
                    int e = sys.statx(fd, "", FileConstants.AT_EMPTY_PATH);
                    if (e < 0) throw new SyscallException("statx", root.toString(), -e);
                    dev = Sys.makedev(sys.stat.devMajor, sys.stat.devMinor);
                    if (how.directories()) how.sink().inode(true, sys.stat.size, sys.stat.blocks);
                }
                Set<String> skip = new HashSet<>();
                for (String n : how.skipTop()) skip.add(raw(n));
                walk(sys, fd, root.toString(), how, how.sameFilesystem() ? dev : -1, new HashSet<>(), skip);
            } finally {
                sys.close(fd);
            }
        }
    }

    /**
     * Every entry of one directory; d_type is only a hint (DT_UNKNOWN on ext4 -O ^filetype, xfs ftype=0): a stat
     * settles it. {@code dev} is the device to stay on, -1 for any.
     */
    private static void walk(Sys sys, int dirFd, String what, Walk how, long dev, Set<Long> seen, Set<String> skip) {
        List<String> names = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int r = sys.readdir(dirFd, (n, t) -> {
            if (skip.contains(n)) return;
            names.add(n);
            types.add(t);
        });
        if (r < 0) throw new SyscallException("getdents64", what, -r);
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            boolean dir = types.get(i) == FileConstants.DT_DIR;
            if (!dir || how.directories()) {
                int e = sys.statx(dirFd, n, FileConstants.AT_SYMLINK_NOFOLLOW);
                if (e == -ErrnoCodes.ENOENT) continue; // removed while walking, as moby ignores it
                if (e < 0) throw new SyscallException("statx", what + "/" + n, -e);
                if (dev != -1 && Sys.makedev(sys.stat.devMajor, sys.stat.devMinor) != dev) continue; // a mount below
                dir = sys.stat.type() == FileConstants.S_IFDIR;
                if (!dir && sys.stat.nlink > 1 && !seen.add(sys.stat.ino)) continue;
                how.sink().inode(dir, sys.stat.size, sys.stat.blocks);
            }
            if (dir) {
                int fd = sys.openat(dirFd, n, FileConstants.O_RDONLY | FileConstants.O_DIRECTORY | FileConstants.O_NOFOLLOW, 0);
                if (fd == -ErrnoCodes.ENOENT) continue;
                if (fd < 0) throw new SyscallException("openat", what + "/" + n, -fd);
                try {
                    walk(sys, fd, what, how, dev, seen, Set.of());
                } finally {
                    sys.close(fd);
                }
            }
        }
    }
}
