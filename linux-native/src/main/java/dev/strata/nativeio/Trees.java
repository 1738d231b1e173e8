package dev.strata.nativeio;

import dev.strata.api.StorageException;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** Whole-tree operations on layer directories, descriptor-relative: removing one, and moby's directory.Size. */
public final class Trees {
    private Trees() {
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
                else unlinkIfPresent(dir, e.name(), 0);
            }
        }
        unlinkIfPresent(parent, name, PosixFiles.AT_REMOVEDIR);
    }

    private static void unlinkIfPresent(Fd dir, String name, int flags) {
        try {
            PosixFiles.unlinkat(dir, name, flags);
        } catch (SyscallException e) {
            if (!e.is(Errno.ENOENT)) throw e;
        }
    }

    public static void deleteQuietly(Path root) {
        try {
            delete(root);
        } catch (RuntimeException ignored) {
            // best effort: a leftover scratch directory is removed again at the next open
        }
    }

    /**
     * moby's directory.Size: the sizes of everything but directories, each inode once (hard links), symlinks
     * counting their target's length. Descriptor-relative (openat, getdents64, statx), without following symlinks.
     */
    public static long size(Path root) {
        return size(root, Set.of());
    }

    /** {@link #size(Path)}, leaving out the top-level entries named in {@code skipTop} (aufs's own bookkeeping). */
    public static long size(Path root, Set<String> skipTop) {
        try (Fd dir = PosixFiles.open(root, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0)) {
            long[] total = {0};
            sizeWalk(dir, total, new HashSet<>(), skipTop);
            return total[0];
        } catch (SyscallException e) {
            throw new StorageException("size", root.toString(), e.getMessage(), e);
        }
    }

    private static void sizeWalk(Fd dir, long[] total, Set<Long> seen, Set<String> skip) {
        for (DirEntries.Entry e : DirEntries.list(dir)) {
            if (skip.contains(e.name())) continue;
            if (e.type() == DirEntries.DT_DIR) {
                descend(dir, e.name(), total, seen);
                continue;
            }
            Stat st;
            try {
                st = PosixFiles.statx(dir, e.name(), PosixFiles.AT_SYMLINK_NOFOLLOW);
            } catch (SyscallException x) {
                if (x.is(Errno.ENOENT)) continue; // removed while walking, as moby ignores it
                throw x;
            }
            if (st.isDirectory()) {
                descend(dir, e.name(), total, seen);
            } else if (st.size() > 0 && (st.nlink() < 2 || seen.add(st.ino()))) {
                total[0] += st.size();
            }
        }
    }

    private static void descend(Fd dir, String name, long[] total, Set<Long> seen) {
        Fd sub;
        try {
            sub = PosixFiles.openat(dir, name, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY | PosixFiles.O_NOFOLLOW, 0);
        } catch (SyscallException x) {
            if (x.is(Errno.ENOENT)) return;
            throw x;
        }
        try (sub) {
            sizeWalk(sub, total, seen, Set.of());
        }
    }
}
