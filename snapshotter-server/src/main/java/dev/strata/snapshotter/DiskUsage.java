package dev.strata.snapshotter;

import dev.strata.api.StorageException;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Trees;

import java.nio.file.Path;

/**
 * containerd's {@code fs.DiskUsage}: every inode under a directory (the directory itself included) counted once,
 * its allocated blocks times 512 added to the size. Descriptor-relative, never following symlinks.
 */
final class DiskUsage {
    private DiskUsage() {
    }

    static Usage of(Path root) {
        long[] total = {0, 0};
        try {
            // mounts below are crossed, as containerd's walk does
            Trees.inodes(root, false, (directory, size, blocks) -> {
                total[0] += blocks * 512;
                total[1]++;
            });
        } catch (SyscallException e) {
            throw new StorageException("usage", root.toString(), e.getMessage(), e);
        }
        return new Usage(total[0], total[1]);
    }
}
