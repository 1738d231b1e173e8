package dev.strata.nativeio.btrfs;

import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * btrfs's ioctl numbers and argument structs ({@code linux/btrfs.h}), each struct declared once. An ioctl number
 * encodes the size of its argument ({@code _IOW(0x94, nr, struct)}), so {@link #argSize} ties every layout here to
 * the kernel's: a test checks each one, and the calls on a loop btrfs check the offsets.
 */
public final class BtrfsIoctl {
    private BtrfsIoctl() {
    }

    public static final long SYNC = 0x9408L, SUBVOL_CREATE = 0x5000940eL, SNAP_DESTROY = 0x5000940fL, TREE_SEARCH = 0xd0009411L,
            INO_LOOKUP = 0xd0009412L, SNAP_CREATE_V2 = 0x50009417L, SUBVOL_GETFLAGS = 0x80089419L,
            SUBVOL_SETFLAGS = 0x4008941aL, QUOTA_CTL = 0xc0109428L, QGROUP_CREATE = 0x4010942aL,
            QGROUP_LIMIT = 0x8030942bL, QUOTA_RESCAN_WAIT = 0x942eL, GET_SUBVOL_INFO = 0x81f8943cL,
            GET_SUBVOL_ROOTREF = 0xd000943dL, INO_LOOKUP_USER = 0xd000943eL, SNAP_DESTROY_V2 = 0x5000943fL;

    /** vol_args_v2 flags. */
    public static final long SUBVOL_RDONLY = 1L << 1, SUBVOL_SPEC_BY_ID = 1L << 4;
    /** The read-only bit of a root item's flags, as GET_SUBVOL_INFO reports them (not the same bit as above). */
    public static final long ROOT_SUBVOL_RDONLY = 1L;
    /** QUOTA_CTL commands. */
    public static final long QUOTA_CTL_ENABLE = 1, QUOTA_CTL_DISABLE = 2;
    public static final long QGROUP_LIMIT_MAX_RFER = 1;

    /** The object id of every subvolume's root directory (its inode number, as stat shows it). */
    public static final long FIRST_FREE_OBJECTID = 256;
    public static final long ROOT_TREE_OBJECTID = 1, QUOTA_TREE_OBJECTID = 8, FS_TREE_OBJECTID = 5;
    public static final int ROOT_ITEM_KEY = 132, ROOT_BACKREF_KEY = 144, ROOT_REF_KEY = 156, QGROUP_STATUS_KEY = 240,
            QGROUP_INFO_KEY = 242, QGROUP_LIMIT_KEY = 244;

    /** BTRFS_SUBVOL_NAME_MAX: names are at most 255 bytes. */
    public static final int NAME_MAX = 255;

    /** struct btrfs_ioctl_vol_args: fd, then name[4088]. */
    public static final StructLayout VOL_ARGS = MemoryLayout.structLayout(
            JAVA_LONG.withName("fd"), bytes(4088).withName("name"));

    /** struct btrfs_ioctl_vol_args_v2: fd, transid, flags, a 32-byte union (size, qgroup_inherit), name[4040]. */
    public static final StructLayout VOL_ARGS_V2 = MemoryLayout.structLayout(
            JAVA_LONG.withName("fd"), JAVA_LONG.withName("transid"), JAVA_LONG.withName("flags"),
            MemoryLayout.paddingLayout(32),
            bytes(4040).withName("name"));

    /** struct btrfs_ioctl_quota_ctl_args. */
    public static final StructLayout QUOTA_CTL_ARGS = MemoryLayout.structLayout(JAVA_LONG.withName("cmd"), JAVA_LONG.withName("status"));

    /** struct btrfs_ioctl_qgroup_create_args: create (1) or remove (0), qgroupid. */
    public static final StructLayout QGROUP_CREATE_ARGS = MemoryLayout.structLayout(JAVA_LONG.withName("create"), JAVA_LONG.withName("qgroupid"));

    /** struct btrfs_ioctl_qgroup_limit_args: qgroupid (0: the fd's subvolume), then struct btrfs_qgroup_limit. */
    public static final StructLayout QGROUP_LIMIT_ARGS = MemoryLayout.structLayout(
            JAVA_LONG.withName("qgroupid"), JAVA_LONG.withName("flags"), JAVA_LONG.withName("max_rfer"),
            JAVA_LONG.withName("max_excl"), JAVA_LONG.withName("rsv_rfer"), JAVA_LONG.withName("rsv_excl"));

    /** struct btrfs_ioctl_ino_lookup_args: treeid, objectid, name[4080]. */
    public static final StructLayout INO_LOOKUP_ARGS = MemoryLayout.structLayout(
            JAVA_LONG.withName("treeid"), JAVA_LONG.withName("objectid"),
            bytes(4080).withName("name"));

    /** struct btrfs_ioctl_search_key (104 bytes). */
    public static final StructLayout SEARCH_KEY = MemoryLayout.structLayout(
            JAVA_LONG.withName("tree_id"), JAVA_LONG.withName("min_objectid"), JAVA_LONG.withName("max_objectid"),
            JAVA_LONG.withName("min_offset"), JAVA_LONG.withName("max_offset"), JAVA_LONG.withName("min_transid"),
            JAVA_LONG.withName("max_transid"), JAVA_INT.withName("min_type"), JAVA_INT.withName("max_type"),
            JAVA_INT.withName("nr_items"), JAVA_INT.withName("unused"), MemoryLayout.paddingLayout(32));

    /** struct btrfs_ioctl_search_args: the key, then a 3992-byte buffer of (header, item) pairs. */
    public static final StructLayout SEARCH_ARGS = MemoryLayout.structLayout(SEARCH_KEY.withName("key"),
            bytes(4096 - 104).withName("buf"));

    /** struct btrfs_ioctl_search_header (32 bytes), before each item in the buffer. */
    public static final StructLayout SEARCH_HEADER = MemoryLayout.structLayout(
            JAVA_LONG.withName("transid"), JAVA_LONG.withName("objectid"), JAVA_LONG.withName("offset"),
            JAVA_INT.withName("type"), JAVA_INT.withName("len"));

    /** struct btrfs_ioctl_timespec: sec, nsec, padded to 16 bytes. */
    private static final StructLayout TIMESPEC = MemoryLayout.structLayout(JAVA_LONG.withName("sec"), JAVA_INT.withName("nsec"),
            MemoryLayout.paddingLayout(4));

    /** struct btrfs_ioctl_get_subvol_info_args (504 bytes): works without CAP_SYS_ADMIN, unlike TREE_SEARCH. */
    public static final StructLayout SUBVOL_INFO_ARGS = MemoryLayout.structLayout(
            JAVA_LONG.withName("treeid"), bytes(256).withName("name"),
            JAVA_LONG.withName("parent_id"), JAVA_LONG.withName("dirid"), JAVA_LONG.withName("generation"),
            JAVA_LONG.withName("flags"),
            bytes(16).withName("uuid"),
            bytes(16).withName("parent_uuid"),
            bytes(16).withName("received_uuid"),
            JAVA_LONG.withName("ctransid"), JAVA_LONG.withName("otransid"), JAVA_LONG.withName("stransid"),
            JAVA_LONG.withName("rtransid"), TIMESPEC.withName("ctime"), TIMESPEC.withName("otime"),
            TIMESPEC.withName("stime"), TIMESPEC.withName("rtime"), MemoryLayout.paddingLayout(64));

    /** BTRFS_MAX_ROOTREF_BUFFER_NUM: refs a GET_SUBVOL_ROOTREF call returns at most. */
    public static final int MAX_ROOTREFS = 255;

    /**
     * struct btrfs_ioctl_get_subvol_rootref_args (Linux 4.18, unprivileged): min_treeid, then 255 (treeid, dirid)
     * pairs, then num_items and padding.
     */
    public static final StructLayout ROOTREF_ARGS = MemoryLayout.structLayout(
            JAVA_LONG.withName("min_treeid"),
            MemoryLayout.sequenceLayout(MAX_ROOTREFS, MemoryLayout.structLayout(JAVA_LONG.withName("treeid"), JAVA_LONG.withName("dirid")))
                    .withName("rootref"),
            JAVA_BYTE.withName("num_items"), MemoryLayout.paddingLayout(7));

    /**
     * struct btrfs_ioctl_ino_lookup_user_args (Linux 4.18, unprivileged): dirid and treeid in; the subvolume's name
     * (256) and the path from the descriptor to dirid (3824) out.
     */
    public static final StructLayout INO_LOOKUP_USER_ARGS = MemoryLayout.structLayout(
            JAVA_LONG.withName("dirid"), JAVA_LONG.withName("treeid"),
            bytes(256).withName("name"),
            bytes(3824).withName("path"));

    /** char[n]. */
    private static MemoryLayout bytes(long n) {
        return MemoryLayout.sequenceLayout(n, JAVA_BYTE);
    }

    /** Byte offset of a field of {@code layout}. */
    public static long offset(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }

    /** The argument size an ioctl number encodes (bits 16-29). */
    public static long argSize(long request) {
        return (request >>> 16) & 0x3fff;
    }

    static int call(Fd fd, long request, MemorySegment arg, String name) {
        return Ioctl.call(fd, request, arg, name);
    }
}
