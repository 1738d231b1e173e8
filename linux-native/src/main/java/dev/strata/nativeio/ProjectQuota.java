package dev.strata.nativeio;

import dev.strata.api.NotSupportedException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Per-directory size and inode limits through project quotas, as moby and containers/storage do them: each
 * limited directory gets its own project id (FS_IOC_FSSETXATTR with PROJINHERIT) and a hard limit set with
 * quotactl(Q_XSETPQLIM) on the backing block device. Works on xfs mounted with {@code pquota} and on ext4 with the
 * {@code project} feature mounted with {@code prjquota}; anywhere else {@link #open} says why not.
 *
 * <p>{@code struct fsxattr} is 28 bytes (xflags, extsize, nextents, projid at 12, cowextsize, pad[8]);
 * {@code struct fs_disk_quota} is 112 bytes (version 0, flags 1, fieldmask 2, id 4, blk hard 8, blk soft 16,
 * ino hard 24, ino soft 32, bcount 40, icount 48); block limits are in 512-byte units.
 */
public final class ProjectQuota {
    private static final long FS_IOC_FSGETXATTR = 0x801C581FL, FS_IOC_FSSETXATTR = 0x401C5820L;
    private static final int FS_XFLAG_PROJINHERIT = 0x200;
    private static final int PRJQUOTA = 2;
    private static final int Q_XSETPQLIM = (0x5804 << 8) | PRJQUOTA, Q_XGETPQUOTA = (0x5803 << 8) | PRJQUOTA;
    private static final int FS_DQ_ISOFT = 1, FS_DQ_IHARD = 2, FS_DQ_BSOFT = 4, FS_DQ_BHARD = 8;
    private static final byte FS_DQUOT_VERSION = 1, FS_PROJ_QUOTA = 2;
    /** Project ids handed out per home, as moby's projectIDsAllocatedPerQuotaHome. */
    private static final long IDS_PER_HOME = 10000;

    private static final class H {
        static final MethodHandle QUOTACTL = Native.errnoCall("quotactl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    }

    /** Limits and usage of one directory. Zero means no limit. */
    public record Usage(long bytesLimit, long inodesLimit, long bytesUsed, long inodesUsed) {
    }

    private final Path blockDevice;
    private final Map<Path, Integer> ids = new HashMap<>();
    private int nextId;

    private ProjectQuota(Path blockDevice, int nextId) {
        this.blockDevice = blockDevice;
        this.nextId = nextId;
    }

    /**
     * Prepares quotas for directories under {@code home}: makes {@code <home>/backingFsBlockDev} for quotactl,
     * checks that limits can be set, and learns the project ids already given to {@code home}'s children.
     *
     * @throws NotSupportedException with the reason when the filesystem has no project quotas enabled
     */
    public static synchronized ProjectQuota open(Path home) {
        StatFs fs = StatFs.of(home);
        String where = fs.typeName() + " at " + home;
        String missing = missingKernelSupport(fs);
        if (missing != null) throw new NotSupportedException("quota", home.toString(), missing);
        int base;
        try {
            base = projectId(home);
        } catch (SyscallException e) {
            throw new NotSupportedException("quota", home.toString(),
                    "project quotas are not available on " + where + " (FS_IOC_FSGETXATTR: " + e.errnoName() + ")");
        }
        if (base == 0) {
            long ino = PosixFiles.lstat(home).ino();
            base = (int) (IDS_PER_HOME + (ino * IDS_PER_HOME) % (0xFFFFFFFFL - IDS_PER_HOME));
        }
        Path dev = home.resolve("backingFsBlockDev");
        try {
            Stat st = PosixFiles.lstat(home);
            Path tmp = home.resolve("backingFsBlockDev.tmp");
            Files.deleteIfExists(tmp);
            PosixFiles.mknod(tmp, Stat.S_IFBLK | 0600, st.dev());
            Files.move(tmp, dev, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | SyscallException e) {
            throw new NotSupportedException("quota", home.toString(), "cannot make the quota device node in " + home + ": " + e.getMessage());
        }
        ProjectQuota q = new ProjectQuota(dev, base + 1);
        try {
            q.limit(base, 0, 0);
        } catch (SyscallException e) {
            throw new NotSupportedException("quota", home.toString(), "filesystem does not support, or has not enabled, project quotas: "
                    + where + " (quotactl: " + e.errnoName() + "; use xfs mounted with pquota, or ext4 with prjquota)");
        }
        q.scan(home);
        return q;
    }

    /** Why this kernel cannot do project quotas on this filesystem at all, or null if it might. */
    public static String missingKernelSupport(StatFs fs) {
        if (fs.type() == StatFs.XFS_MAGIC && "n".equals(Kernel.config("CONFIG_XFS_QUOTA"))) {
            return "XFS quota support is not in this kernel (CONFIG_XFS_QUOTA is not set in " + Kernel.release() + ")";
        }
        if (fs.type() == StatFs.EXT4_MAGIC && "n".equals(Kernel.config("CONFIG_QFMT_V2"))) {
            return "ext4 quota support is not in this kernel (CONFIG_QFMT_V2 is not set in " + Kernel.release() + ")";
        }
        return null;
    }

    /** Limits {@code dir} (and everything created under it) to {@code bytes} and {@code inodes} (0: unlimited). */
    public synchronized void set(Path dir, long bytes, long inodes) {
        Integer id = ids.get(dir);
        if (id == null) {
            id = nextId++;
            setProjectId(dir, id);
            ids.put(dir, id);
        }
        limit(id, bytes, inodes);
    }

    /** The limits and usage of a directory given a limit before, or null. */
    public synchronized Usage usage(Path dir) {
        Integer id = ids.get(dir);
        if (id == null) return null;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment d = a.allocate(112, 8);
            int r = (int) H.QUOTACTL.invokeExact(st, Q_XGETPQUOTA, a.allocateFrom(blockDevice.toString()), id, d);
            if (r < 0) throw new SyscallException("quotactl Q_XGETPQUOTA", dir.toString(), Native.errno(st));
            return new Usage(d.get(JAVA_LONG, 8) * 512, d.get(JAVA_LONG, 24), d.get(JAVA_LONG, 40) * 512, d.get(JAVA_LONG, 48));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Notes that a limited directory was renamed (a layer made under a staging name and renamed into place), so
     * that {@link #usage} and {@link #forget} find it under its new path. The project id moves with the inode.
     */
    public synchronized void moved(Path from, Path to) {
        Integer id = ids.remove(from);
        if (id != null) ids.put(to, id);
    }

    /** Forgets a directory that was removed; its project id is not reused in this instance. */
    public synchronized void forget(Path dir) {
        ids.remove(dir);
    }

    private void limit(int id, long bytes, long inodes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.captureState(a);
            MemorySegment d = a.allocate(112, 8);
            d.set(JAVA_BYTE, 0, FS_DQUOT_VERSION);
            d.set(JAVA_BYTE, 1, FS_PROJ_QUOTA);
            short mask = 0;
            if (bytes > 0) {
                mask |= FS_DQ_BHARD | FS_DQ_BSOFT;
                d.set(JAVA_LONG, 8, ceilDiv(bytes, 512));
                d.set(JAVA_LONG, 16, ceilDiv(bytes, 512));
            }
            if (inodes > 0) {
                mask |= FS_DQ_IHARD | FS_DQ_ISOFT;
                d.set(JAVA_LONG, 24, inodes);
                d.set(JAVA_LONG, 32, inodes);
            }
            d.set(JAVA_SHORT, 2, mask);
            d.set(JAVA_INT, 4, id);
            int r = (int) H.QUOTACTL.invokeExact(st, Q_XSETPQLIM, a.allocateFrom(blockDevice.toString()), id, d);
            if (r < 0) throw new SyscallException("quotactl Q_XSETPQLIM", blockDevice + " project " + Integer.toUnsignedString(id), Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private void scan(Path home) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(home, Files::isDirectory)) {
            for (Path p : ds) {
                int id = projectId(p);
                if (id != 0) {
                    ids.put(p, id);
                    if (Integer.compareUnsigned(id, nextId) >= 0) nextId = id + 1;
                }
            }
        } catch (IOException e) {
            throw new NotSupportedException("quota", home.toString(), "cannot read " + home + ": " + e);
        }
    }

    /** The project id of a directory (FS_IOC_FSGETXATTR). */
    public static int projectId(Path dir) {
        try (Fd fd = PosixFiles.open(dir, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0); Arena a = Arena.ofConfined()) {
            MemorySegment fsx = a.allocate(28, 4);
            Ioctl.call(fd, FS_IOC_FSGETXATTR, fsx, "FS_IOC_FSGETXATTR");
            return fsx.get(JAVA_INT, 12);
        }
    }

    private static void setProjectId(Path dir, int id) {
        try (Fd fd = PosixFiles.open(dir, PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY, 0); Arena a = Arena.ofConfined()) {
            MemorySegment fsx = a.allocate(28, 4);
            Ioctl.call(fd, FS_IOC_FSGETXATTR, fsx, "FS_IOC_FSGETXATTR");
            fsx.set(JAVA_INT, 12, id);
            fsx.set(JAVA_INT, 0, fsx.get(JAVA_INT, 0) | FS_XFLAG_PROJINHERIT);
            Ioctl.call(fd, FS_IOC_FSSETXATTR, fsx, "FS_IOC_FSSETXATTR");
        }
    }
}
