package dev.strata.nativeio.btrfs;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.StatFs;
import dev.strata.nativeio.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.strata.nativeio.btrfs.BtrfsIoctl.INO_LOOKUP_ARGS;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.SUBVOL_INFO_ARGS;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.VOL_ARGS;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.VOL_ARGS_V2;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.offset;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * btrfs subvolumes and snapshots: create, snapshot (optionally read-only), destroy, and what the kernel knows of
 * one (id, uuids, generations, flags, nested subvolumes). Each call takes a path and opens what it needs.
 */
public final class Subvolumes {
    private static final int DIR = PosixFiles.O_RDONLY | PosixFiles.O_DIRECTORY;

    private Subvolumes() {
    }

    /**
     * What GET_SUBVOL_INFO says of a subvolume. {@code parentUuid} is the uuid of the subvolume it is a snapshot
     * of (null for one made empty); {@code otransid} is the transaction that made it, {@code generation} the last
     * one that changed it.
     */
    public record Info(long id, String name, long parentId, long dirId, long generation, long flags, UUID uuid,
                       UUID parentUuid, long ctransid, long otransid) {
        public boolean readOnly() {
            return (flags & BtrfsIoctl.ROOT_SUBVOL_RDONLY) != 0;
        }
    }

    /** A subvolume inside another one: its id and its path relative to the outer subvolume's root. */
    public record Nested(long id, String path) {
    }

    /** BTRFS_IOC_SUBVOL_CREATE: an empty subvolume {@code dir/name}. */
    public static void create(Path dir, String name) {
        checkName(name);
        try (Fd d = PosixFiles.open(dir, DIR, 0); Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(VOL_ARGS);
            putName(args, offset(VOL_ARGS, "name"), name);
            call(d, BtrfsIoctl.SUBVOL_CREATE, args, "BTRFS_IOC_SUBVOL_CREATE", dir.resolve(name));
        }
    }

    /** BTRFS_IOC_SNAP_CREATE_V2: {@code dir/name} as a snapshot of the subvolume {@code source}, read-only if asked. */
    public static void snapshot(Path source, Path dir, String name, boolean readOnly) {
        checkName(name);
        try (Fd src = PosixFiles.open(source, DIR, 0); Fd d = PosixFiles.open(dir, DIR, 0); Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(VOL_ARGS_V2);
            args.set(JAVA_LONG, offset(VOL_ARGS_V2, "fd"), (long) src.fd());
            args.set(JAVA_LONG, offset(VOL_ARGS_V2, "flags"), readOnly ? BtrfsIoctl.SUBVOL_RDONLY : 0L);
            putName(args, offset(VOL_ARGS_V2, "name"), name);
            call(d, BtrfsIoctl.SNAP_CREATE_V2, args, "BTRFS_IOC_SNAP_CREATE_V2", dir.resolve(name));
        }
    }

    /**
     * Destroys the subvolume {@code dir/name} (which must hold no other subvolume): BTRFS_IOC_SNAP_DESTROY_V2, or
     * the v1 call on kernels before 5.7, which do not know v2 (ENOTTY). The space is freed in the background.
     */
    public static void destroy(Path dir, String name) {
        checkName(name);
        try (Fd d = PosixFiles.open(dir, DIR, 0)) {
            try {
                destroyV2(d, dir, name);
            } catch (SyscallException e) {
                if (!e.is(Errno.ENOTTY)) throw e;
                destroyV1(d, dir, name);
            }
        }
    }

    static void destroyV2(Fd d, Path dir, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(VOL_ARGS_V2);
            putName(args, offset(VOL_ARGS_V2, "name"), name);
            call(d, BtrfsIoctl.SNAP_DESTROY_V2, args, "BTRFS_IOC_SNAP_DESTROY_V2", dir.resolve(name));
        }
    }

    static void destroyV1(Fd d, Path dir, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(VOL_ARGS);
            putName(args, offset(VOL_ARGS, "name"), name);
            call(d, BtrfsIoctl.SNAP_DESTROY, args, "BTRFS_IOC_SNAP_DESTROY", dir.resolve(name));
        }
    }

    /** Whether {@code path} is the root of a btrfs subvolume (inode 256 on btrfs), without following a final symlink. */
    public static boolean isSubvolume(Path path) {
        if (!PosixFiles.lexists(path)) return false;
        Stat st = PosixFiles.lstat(path);
        return st.isDirectory() && st.ino() == BtrfsIoctl.FIRST_FREE_OBJECTID && StatFs.of(path).type() == StatFs.BTRFS_MAGIC;
    }

    /** BTRFS_IOC_GET_SUBVOL_INFO of the subvolume that {@code path} is in. */
    public static Info info(Path path) {
        try (Fd d = PosixFiles.open(path, DIR, 0); Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(SUBVOL_INFO_ARGS);
            call(d, BtrfsIoctl.GET_SUBVOL_INFO, args, "BTRFS_IOC_GET_SUBVOL_INFO", path);
            return new Info(args.get(JAVA_LONG, offset(SUBVOL_INFO_ARGS, "treeid")),
                    args.asSlice(offset(SUBVOL_INFO_ARGS, "name"), 256).getString(0),
                    args.get(JAVA_LONG, offset(SUBVOL_INFO_ARGS, "parent_id")),
                    args.get(JAVA_LONG, offset(SUBVOL_INFO_ARGS, "dirid")),
                    args.get(JAVA_LONG, offset(SUBVOL_INFO_ARGS, "generation")),
                    args.get(JAVA_LONG, offset(SUBVOL_INFO_ARGS, "flags")),
                    uuid(args, offset(SUBVOL_INFO_ARGS, "uuid")),
                    uuid(args, offset(SUBVOL_INFO_ARGS, "parent_uuid")),
                    args.get(JAVA_LONG, offset(SUBVOL_INFO_ARGS, "ctransid")),
                    args.get(JAVA_LONG, offset(SUBVOL_INFO_ARGS, "otransid")));
        }
    }

    /**
     * BTRFS_IOC_SYNC: commits the running transaction, which also lets the cleaner drop destroyed subvolumes
     * sooner than the next periodic commit.
     */
    public static void sync(Path fs) {
        try (Fd d = PosixFiles.open(fs, DIR, 0)) {
            Ioctl.call(d, BtrfsIoctl.SYNC, 0L, "BTRFS_IOC_SYNC");
        }
    }

    /** BTRFS_IOC_INO_LOOKUP with tree 0: the id of the subvolume that {@code path} is in (5 for the top level). */
    public static long id(Path path) {
        try (Fd d = PosixFiles.open(path, DIR, 0)) {
            return inoLookup(d, 0, BtrfsIoctl.FIRST_FREE_OBJECTID, path).treeId;
        }
    }

    /** Sets or clears the read-only flag (SUBVOL_SETFLAGS; the kernel commits a transaction for it). */
    public static void setReadOnly(Path subvolume, boolean readOnly) {
        try (Fd d = PosixFiles.open(subvolume, DIR, 0); Arena a = Arena.ofConfined()) {
            MemorySegment flags = a.allocate(JAVA_LONG);
            call(d, BtrfsIoctl.SUBVOL_GETFLAGS, flags, "BTRFS_IOC_SUBVOL_GETFLAGS", subvolume);
            long now = flags.get(JAVA_LONG, 0);
            long want = readOnly ? now | BtrfsIoctl.SUBVOL_RDONLY : now & ~BtrfsIoctl.SUBVOL_RDONLY;
            if (want == now) return;
            flags.set(JAVA_LONG, 0, want);
            call(d, BtrfsIoctl.SUBVOL_SETFLAGS, flags, "BTRFS_IOC_SUBVOL_SETFLAGS", subvolume);
        }
    }

    /**
     * The subvolumes directly inside the subvolume {@code subvolume} (not theirs), each with its path: no walk of the
     * tree, whatever its size. Unprivileged (GET_SUBVOL_ROOTREF and INO_LOOKUP_USER, Linux 4.18), so it works in a
     * user namespace too; before 4.18, from the root tree's ROOT_REF items (TREE_SEARCH and INO_LOOKUP, which need
     * CAP_SYS_ADMIN).
     */
    public static List<Nested> nested(Path subvolume) {
        try (Fd d = PosixFiles.open(subvolume, DIR, 0)) {
            try {
                return nestedUnprivileged(d, subvolume);
            } catch (SyscallException e) {
                if (!e.is(Errno.ENOTTY)) throw e;
                return nestedFromRootTree(d, subvolume);
            }
        }
    }

    /** A subvolume's id and the subvolumes directly inside it ({@link #nested}). */
    public record Contents(long id, List<Nested> nested) {
    }

    /** {@link #id} and {@link #nested} of one subvolume through one open: what a destroy needs first. */
    public static Contents contents(Path subvolume) {
        try (Fd d = PosixFiles.open(subvolume, DIR, 0)) {
            long id = inoLookup(d, 0, BtrfsIoctl.FIRST_FREE_OBJECTID, subvolume).treeId;
            try {
                return new Contents(id, nestedUnprivileged(d, subvolume));
            } catch (SyscallException e) {
                if (!e.is(Errno.ENOTTY)) throw e;
                return new Contents(id, nestedFromRootTree(d, subvolume));
            }
        }
    }

    static List<Nested> nestedUnprivileged(Fd d, Path subvolume) {
        List<Nested> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment refs = a.allocate(BtrfsIoctl.ROOTREF_ARGS);
            MemorySegment lookup = a.allocate(BtrfsIoctl.INO_LOOKUP_USER_ARGS);
            long pairs = offset(BtrfsIoctl.ROOTREF_ARGS, "rootref"), count = offset(BtrfsIoctl.ROOTREF_ARGS, "num_items");
            boolean more = true;
            while (more) {
                try {
                    call(d, BtrfsIoctl.GET_SUBVOL_ROOTREF, refs, "BTRFS_IOC_GET_SUBVOL_ROOTREF", subvolume);
                    more = false;
                } catch (SyscallException e) {
                    if (!e.is(Errno.EOVERFLOW)) throw e; // more than fit: min_treeid says where to go on
                }
                int n = Byte.toUnsignedInt(refs.get(JAVA_BYTE, count));
                for (int i = 0; i < n; i++) {
                    long treeId = refs.get(JAVA_LONG, pairs + 16L * i), dirId = refs.get(JAVA_LONG, pairs + 16L * i + 8);
                    lookup.fill((byte) 0);
                    lookup.set(JAVA_LONG, offset(BtrfsIoctl.INO_LOOKUP_USER_ARGS, "dirid"), dirId);
                    lookup.set(JAVA_LONG, offset(BtrfsIoctl.INO_LOOKUP_USER_ARGS, "treeid"), treeId);
                    call(d, BtrfsIoctl.INO_LOOKUP_USER, lookup, "BTRFS_IOC_INO_LOOKUP_USER", subvolume);
                    String dir = lookup.asSlice(offset(BtrfsIoctl.INO_LOOKUP_USER_ARGS, "path"), 3824).getString(0);
                    String name = lookup.asSlice(offset(BtrfsIoctl.INO_LOOKUP_USER_ARGS, "name"), 256).getString(0);
                    out.add(new Nested(treeId, dir + name)); // dir is "" for the root, else "a/b/"
                }
            }
        }
        return out;
    }

    static List<Nested> nestedFromRootTree(Fd d, Path subvolume) {
        List<Nested> out = new ArrayList<>();
        long id = inoLookup(d, 0, BtrfsIoctl.FIRST_FREE_OBJECTID, subvolume).treeId;
        for (TreeSearch.Item ref : TreeSearch.search(d, BtrfsIoctl.ROOT_TREE_OBJECTID, id, id,
                BtrfsIoctl.ROOT_REF_KEY, BtrfsIoctl.ROOT_REF_KEY)) {
            // struct btrfs_root_ref (packed): dirid u64, sequence u64, name_len u16, then the name.
            ByteBuffer b = ref.le();
            long dirId = b.getLong(0);
            int nameLen = Short.toUnsignedInt(b.getShort(16));
            String name = new String(ref.data(), 18, nameLen, StandardCharsets.UTF_8);
            String dirPath = inoLookup(d, id, dirId, subvolume).name; // "" for the root, else "a/b/"
            out.add(new Nested(ref.offset(), dirPath + name));
        }
        return out;
    }

    /** Whether the subvolume with this id still has a root item (a destroyed one keeps it until the cleaner has dropped it). Needs CAP_SYS_ADMIN. */
    public static boolean exists(Path fs, long subvolumeId) {
        try (Fd d = PosixFiles.open(fs, DIR, 0)) {
            return !TreeSearch.search(d, BtrfsIoctl.ROOT_TREE_OBJECTID, subvolumeId, subvolumeId,
                    BtrfsIoctl.ROOT_ITEM_KEY, BtrfsIoctl.ROOT_ITEM_KEY).isEmpty();
        }
    }

    private record Lookup(long treeId, String name) {
    }

    private static Lookup inoLookup(Fd d, long tree, long objectid, Path where) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(INO_LOOKUP_ARGS);
            args.set(JAVA_LONG, offset(INO_LOOKUP_ARGS, "treeid"), tree);
            args.set(JAVA_LONG, offset(INO_LOOKUP_ARGS, "objectid"), objectid);
            call(d, BtrfsIoctl.INO_LOOKUP, args, "BTRFS_IOC_INO_LOOKUP", where);
            return new Lookup(args.get(JAVA_LONG, offset(INO_LOOKUP_ARGS, "treeid")),
                    args.asSlice(offset(INO_LOOKUP_ARGS, "name"), 4080).getString(0));
        }
    }

    private static void call(Fd fd, long request, MemorySegment args, String name, Path target) {
        try {
            BtrfsIoctl.call(fd, request, args, name);
        } catch (SyscallException e) {
            // Name the subvolume acted on, not the directory the call was made through.
            throw new SyscallException("ioctl " + name, target.toString(), e.errno());
        }
    }

    private static void putName(MemorySegment args, long at, String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, args, JAVA_BYTE, at, b.length);
    }

    private static void checkName(String name) {
        int len = name.getBytes(StandardCharsets.UTF_8).length;
        if (len == 0 || len > BtrfsIoctl.NAME_MAX || name.contains("/") || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("not a subvolume name: \"" + name + "\"");
        }
    }

    private static UUID uuid(MemorySegment s, long at) {
        ByteBuffer b = ByteBuffer.wrap(s.asSlice(at, 16).toArray(JAVA_BYTE)).order(ByteOrder.BIG_ENDIAN);
        long hi = b.getLong(), lo = b.getLong();
        return hi == 0 && lo == 0 ? null : new UUID(hi, lo);
    }
}
