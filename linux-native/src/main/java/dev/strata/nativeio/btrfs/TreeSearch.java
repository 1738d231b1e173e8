package dev.strata.nativeio.btrfs;

import dev.strata.nativeio.Fd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static dev.strata.nativeio.btrfs.BtrfsIoctl.SEARCH_ARGS;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.SEARCH_HEADER;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.SEARCH_KEY;
import static dev.strata.nativeio.btrfs.BtrfsIoctl.offset;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * BTRFS_IOC_TREE_SEARCH: the items of one btree between two keys, read a buffer at a time. Keys compare as
 * (objectid, type, offset) tuples, so a range can hold types between the two; callers get every item in the
 * range and keep the type they asked for. Needs CAP_SYS_ADMIN.
 */
public final class TreeSearch {
    private static final long KEY = offset(SEARCH_ARGS, "key"), BUF = offset(SEARCH_ARGS, "buf");

    private TreeSearch() {
    }

    /** One item: its key, the transaction that last wrote its leaf, and its bytes (little-endian on disk). */
    public record Item(long objectid, int type, long offset, long transid, byte[] data) {
        public ByteBuffer le() {
            return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        }

        public long u64(int at) {
            return le().getLong(at);
        }
    }

    /** Every item of {@code tree} from (minObjectid, minType, 0) to (maxObjectid, maxType, max) whose type is in [minType, maxType]. */
    public static List<Item> search(Fd fd, long tree, long minObjectid, long maxObjectid, int minType, int maxType) {
        List<Item> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(SEARCH_ARGS);
            MemorySegment key = args.asSlice(KEY, SEARCH_KEY.byteSize());
            long objectid = minObjectid, off = 0;
            int type = minType;
            while (true) {
                key.fill((byte) 0);
                key.set(JAVA_LONG, offset(SEARCH_KEY, "tree_id"), tree);
                key.set(JAVA_LONG, offset(SEARCH_KEY, "min_objectid"), objectid);
                key.set(JAVA_LONG, offset(SEARCH_KEY, "max_objectid"), maxObjectid);
                key.set(JAVA_LONG, offset(SEARCH_KEY, "min_offset"), off);
                key.set(JAVA_LONG, offset(SEARCH_KEY, "max_offset"), -1L);
                key.set(JAVA_LONG, offset(SEARCH_KEY, "min_transid"), 0L);
                key.set(JAVA_LONG, offset(SEARCH_KEY, "max_transid"), -1L);
                key.set(JAVA_INT, offset(SEARCH_KEY, "min_type"), type);
                key.set(JAVA_INT, offset(SEARCH_KEY, "max_type"), maxType);
                key.set(JAVA_INT, offset(SEARCH_KEY, "nr_items"), 4096);
                BtrfsIoctl.call(fd, BtrfsIoctl.TREE_SEARCH, args, "BTRFS_IOC_TREE_SEARCH");
                int n = key.get(JAVA_INT, offset(SEARCH_KEY, "nr_items"));
                if (n == 0) return out;
                long at = BUF;
                Item last = null;
                for (int i = 0; i < n; i++) {
                    // Items are packed: a header can start at any byte.
                    long tid = args.get(JAVA_LONG_UNALIGNED, at + offset(SEARCH_HEADER, "transid"));
                    long oid = args.get(JAVA_LONG_UNALIGNED, at + offset(SEARCH_HEADER, "objectid"));
                    long o = args.get(JAVA_LONG_UNALIGNED, at + offset(SEARCH_HEADER, "offset"));
                    int t = args.get(JAVA_INT_UNALIGNED, at + offset(SEARCH_HEADER, "type"));
                    int len = args.get(JAVA_INT_UNALIGNED, at + offset(SEARCH_HEADER, "len"));
                    at += SEARCH_HEADER.byteSize();
                    byte[] data = args.asSlice(at, len).toArray(JAVA_BYTE);
                    at += len;
                    last = new Item(oid, t, o, tid, data);
                    if (t >= minType && t <= maxType) out.add(last);
                }
                // Resume just past the last key returned, as btrfs-progs does.
                objectid = last.objectid();
                type = last.type();
                off = last.offset() + 1;
                if (last.offset() == -1L) {
                    off = 0;
                    if (type == 255) {
                        if (objectid == maxObjectid) return out;
                        objectid++;
                        type = 0;
                    } else {
                        type++;
                    }
                }
                if (Long.compareUnsigned(objectid, maxObjectid) > 0) return out;
            }
        }
    }
}
