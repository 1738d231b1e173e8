package dev.strata.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * statfs(2): the filesystem type under a path and its free space. {@code struct statfs} on 64-bit Linux is
 * 120 bytes of 8-byte words: type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, flags.
 */
public record StatFs(long type, long blockSize, long blocks, long freeBlocks, long availableBlocks, long files,
                     long freeFiles, long nameMax, long flags) {
    public static final long OVERLAY_MAGIC = 0x794C7630L, AUFS_MAGIC = 0x61756673L, EXT4_MAGIC = 0xEF53L,
            XFS_MAGIC = 0x58465342L, BTRFS_MAGIC = 0x9123683EL, TMPFS_MAGIC = 0x01021994L, ZFS_MAGIC = 0x2FC12FC1L,
            NFS_MAGIC = 0x6969L, ECRYPTFS_MAGIC = 0xF15FL, FUSE_MAGIC = 0x65735546L, RAMFS_MAGIC = 0x858458F6L,
            SQUASHFS_MAGIC = 0x73717368L, VIRTIOFS_MAGIC = 0x65735546L;

    // Names as moby's FsNames reports them in "Backing Filesystem".
    private static final Map<Long, String> NAMES = Map.ofEntries(
            Map.entry(0x61756673L, "aufs"), Map.entry(0x9123683EL, "btrfs"), Map.entry(0x28cd3d45L, "cramfs"),
            Map.entry(0xF15FL, "ecryptfs"), Map.entry(0xEF53L, "extfs"), Map.entry(0xF2F52010L, "f2fs"),
            Map.entry(0x65735546L, "fuse"), Map.entry(0x00c36400L, "ceph"), Map.entry(0x6969L, "nfs"),
            Map.entry(0x794C7630L, "overlayfs"), Map.entry(0x52654973L, "reiserfs"), Map.entry(0x73717368L, "squashfs"),
            Map.entry(0x01021994L, "tmpfs"), Map.entry(0x58465342L, "xfs"), Map.entry(0x2FC12FC1L, "zfs"),
            Map.entry(0x858458F6L, "ramfs"), Map.entry(0xE0F5E1E2L, "erofs"));

    private static final class H {
        static final MethodHandle STATFS = Native.errnoCall("statfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    public static StatFs of(Path path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment buf = a.allocate(120, 8);
            int r = (int) H.STATFS.invokeExact(st, a.allocateFrom(path.toString()), buf);
            if (r < 0) throw new SyscallException("statfs", path.toString(), Native.errno(st));
            return new StatFs(buf.get(JAVA_LONG, 0), buf.get(JAVA_LONG, 8), buf.get(JAVA_LONG, 16),
                    buf.get(JAVA_LONG, 24), buf.get(JAVA_LONG, 32), buf.get(JAVA_LONG, 40), buf.get(JAVA_LONG, 48),
                    buf.get(JAVA_LONG, 64), buf.get(JAVA_LONG, 80));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** statfs of {@code path} or of its nearest existing ancestor. */
    public static StatFs ofNearest(Path path) {
        Path p = path.toAbsolutePath().normalize();
        while (p != null && !java.nio.file.Files.exists(p)) p = p.getParent();
        return of(p == null ? Path.of("/") : p);
    }

    /** The backing filesystem's name as moby reports it ({@code extfs}, {@code xfs}, ...). */
    public String typeName() {
        return NAMES.getOrDefault(type & 0xFFFFFFFFL, "<unknown 0x" + Long.toHexString(type & 0xFFFFFFFFL) + ">");
    }

    public long availableBytes() {
        return availableBlocks * blockSize;
    }
}
