package dev.strata.nativeio.btrfs;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.strata.nativeio.btrfs.BtrfsIoctl.QGROUP_CREATE_ARGS;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.QGROUP_LIMIT_ARGS;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.QUOTA_CTL_ARGS;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.offset;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * btrfs quota groups: quotas on and off, a subvolume's limit on referenced bytes, the qgroups that exist with
 * their usage and limits (from the quota tree), and removing a qgroup. A level-0 qgroup's id is its subvolume's
 * id. Any path on the filesystem will do where a call acts on the whole filesystem.
 */
public final class Qgroups {
    private static final int DIR = PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY;
    private static final long STATUS_ON = 1, STATUS_RESCAN = 2, STATUS_INCONSISTENT = 4;

    private Qgroups() {
    }

    /** The quota tree's status item. */
    public record Status(boolean on, boolean rescanning, boolean inconsistent) {
    }

    /** One qgroup: usage in bytes, and its limit on referenced bytes (0: none). */
    public record Qgroup(long id, long referenced, long exclusive, long maxReferenced) {
        public int level() {
            return (int) (id >>> 48);
        }

        public long subvolumeId() {
            return id & ((1L << 48) - 1);
        }
    }

    /** BTRFS_IOC_QUOTA_CTL(ENABLE); a no-op when quotas are on already. */
    public static void enable(Path fs) {
        quotaCtl(fs, BtrfsIoctl.QUOTA_CTL_ENABLE, "enable");
    }

    /** BTRFS_IOC_QUOTA_CTL(DISABLE): every qgroup and limit is dropped. */
    public static void disable(Path fs) {
        quotaCtl(fs, BtrfsIoctl.QUOTA_CTL_DISABLE, "disable");
    }

    private static void quotaCtl(Path fs, long cmd, String what) {
        try (Fd d = PosixFiles.open(fs, DIR, 0); Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(QUOTA_CTL_ARGS);
            args.set(JAVA_LONG, offset(QUOTA_CTL_ARGS, "cmd"), cmd);
            BtrfsIoctl.call(d, BtrfsIoctl.QUOTA_CTL, args, "BTRFS_IOC_QUOTA_CTL(" + what + ")");
        }
    }

    /** The quota status, or empty when quotas are off (there is no quota tree). */
    public static Optional<Status> status(Path fs) {
        try (Fd d = PosixFiles.open(fs, DIR, 0)) {
            for (TreeSearch.Item i : quotaItems(d, BtrfsIoctl.QGROUP_STATUS_KEY, BtrfsIoctl.QGROUP_STATUS_KEY)) {
                long flags = i.u64(16); // struct btrfs_qgroup_status_item: version, generation, flags, rescan
                return Optional.of(new Status((flags & STATUS_ON) != 0, (flags & STATUS_RESCAN) != 0, (flags & STATUS_INCONSISTENT) != 0));
            }
            return Optional.empty();
        }
    }

    /**
     * BTRFS_IOC_QGROUP_LIMIT of the subvolume {@code subvolume} (qgroupid 0: the one the descriptor is in): at most
     * {@code maxReferenced} bytes; writes past it fail with EDQUOT. 0 lifts the limit.
     */
    public static void limit(Path subvolume, long maxReferenced) {
        try (Fd d = PosixFiles.open(subvolume, DIR, 0); Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(QGROUP_LIMIT_ARGS);
            args.set(JAVA_LONG, offset(QGROUP_LIMIT_ARGS, "flags"), BtrfsIoctl.QGROUP_LIMIT_MAX_RFER);
            args.set(JAVA_LONG, offset(QGROUP_LIMIT_ARGS, "max_rfer"), maxReferenced == 0 ? -1L : maxReferenced);
            try {
                BtrfsIoctl.call(d, BtrfsIoctl.QGROUP_LIMIT, args, "BTRFS_IOC_QGROUP_LIMIT");
            } catch (SyscallException e) {
                throw new SyscallException("ioctl BTRFS_IOC_QGROUP_LIMIT", subvolume.toString(), e.errno());
            }
        }
    }

    /** Every qgroup of the filesystem with its usage and limit; empty when quotas are off. */
    public static List<Qgroup> list(Path fs) {
        try (Fd d = PosixFiles.open(fs, DIR, 0)) {
            Map<Long, Long> limits = new HashMap<>();
            List<TreeSearch.Item> infos = new ArrayList<>();
            for (TreeSearch.Item i : quotaItems(d, BtrfsIoctl.QGROUP_INFO_KEY, BtrfsIoctl.QGROUP_LIMIT_KEY)) {
                if (i.type() == BtrfsIoctl.QGROUP_INFO_KEY) infos.add(i);
                // struct btrfs_qgroup_limit_item: flags, max_rfer, max_excl, rsv_rfer, rsv_excl
                if (i.type() == BtrfsIoctl.QGROUP_LIMIT_KEY && (i.u64(0) & BtrfsIoctl.QGROUP_LIMIT_MAX_RFER) != 0) {
                    limits.put(i.offset(), i.u64(8));
                }
            }
            List<Qgroup> out = new ArrayList<>();
            for (TreeSearch.Item i : infos) {
                // struct btrfs_qgroup_info_item: generation, rfer, rfer_cmpr, excl, excl_cmpr
                long max = limits.getOrDefault(i.offset(), 0L);
                out.add(new Qgroup(i.offset(), i.u64(8), i.u64(24), max == -1L ? 0 : max));
            }
            return out;
        }
    }

    /** The level-0 qgroup of subvolume {@code subvolumeId}, if it exists. */
    public static Optional<Qgroup> of(Path fs, long subvolumeId) {
        return list(fs).stream().filter(q -> q.id() == subvolumeId).findFirst();
    }

    /**
     * Removes a qgroup (BTRFS_IOC_QGROUP_CREATE with create 0). Since Linux 6.8 the kernel refuses (EBUSY) while
     * the qgroup's subvolume exists or is still being dropped, and removes it by itself once dropped.
     */
    public static void remove(Path fs, long qgroupId) {
        try (Fd d = PosixFiles.open(fs, DIR, 0); Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(QGROUP_CREATE_ARGS);
            args.set(JAVA_LONG, offset(QGROUP_CREATE_ARGS, "create"), 0L);
            args.set(JAVA_LONG, offset(QGROUP_CREATE_ARGS, "qgroupid"), qgroupId);
            BtrfsIoctl.call(d, BtrfsIoctl.QGROUP_CREATE, args, "BTRFS_IOC_QGROUP_CREATE(remove " + (qgroupId >>> 48) + "/"
                    + (qgroupId & ((1L << 48) - 1)) + ")");
        }
    }

    /** BTRFS_IOC_QUOTA_RESCAN_WAIT: waits for a rescan in progress, if any. */
    public static void rescanWait(Path fs) {
        try (Fd d = PosixFiles.open(fs, DIR, 0)) {
            Ioctl.call(d, BtrfsIoctl.QUOTA_RESCAN_WAIT, 0L, "BTRFS_IOC_QUOTA_RESCAN_WAIT");
        }
    }

    private static List<TreeSearch.Item> quotaItems(Fd d, int minType, int maxType) {
        try {
            return TreeSearch.search(d, BtrfsIoctl.QUOTA_TREE_OBJECTID, 0, 0, minType, maxType);
        } catch (SyscallException e) {
            if (e.is(Errno.ENOENT)) return List.of(); // quotas were never enabled, or were disabled: no quota tree
            throw e;
        }
    }
}
