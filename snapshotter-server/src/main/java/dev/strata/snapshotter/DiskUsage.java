package dev.strata.snapshotter;

import dev.strata.api.StorageException;
import dev.strata.nativeio.DirEntries;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * containerd's {@code fs.DiskUsage}: every inode under a directory (the directory itself included) counted once,
 * its allocated blocks times 512 added to the size. Descriptor-relative, never following symlinks.
 */
final class DiskUsage {
    private DiskUsage() {
    }

    static Usage of(Path root) {
        Set<Long> seen = new HashSet<>();
        long[] total = {0, 0};
        try (Fd dir = PosixFiles.open(root, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0)) {
            count(PosixFiles.statx(dir, "", PosixFiles.AT_EMPTY_PATH), seen, total);
            walk(dir, seen, total);
        } catch (SyscallException e) {
            throw new StorageException("usage", root.toString(), e.getMessage(), e);
        }
        return new Usage(total[0], total[1]);
    }

    private static void walk(Fd dir, Set<Long> seen, long[] total) {
        for (DirEntries.Entry e : DirEntries.list(dir)) {
            Stat st;
            try {
                st = PosixFiles.statx(dir, e.name(), PosixFiles.AT_SYMLINK_NOFOLLOW);
            } catch (SyscallException x) {
                if (x.is(Errno.ENOENT)) continue; // removed while walking
                throw x;
            }
            count(st, seen, total);
            if (!st.isDirectory()) continue;
            Fd sub;
            try {
                sub = PosixFiles.openat(dir, e.name(), PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY | PosixFiles.O_NOFOLLOW, 0);
            } catch (SyscallException x) {
                if (x.is(Errno.ENOENT)) continue;
                throw x;
            }
            try (sub) {
                walk(sub, seen, total);
            }
        }
    }

    private static void count(Stat st, Set<Long> seen, long[] total) {
        // one filesystem per walk (an upper dir), so the inode number alone identifies a file
        if (st.nlink() > 1 && !st.isDirectory() && !seen.add(st.ino())) return;
        total[0] += st.blocks() * 512;
        total[1]++;
    }
}
