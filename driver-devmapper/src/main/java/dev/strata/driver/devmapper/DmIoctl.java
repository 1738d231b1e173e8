package dev.strata.driver.devmapper;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The device-mapper ioctl ABI of {@code <linux/dm-ioctl.h>}, declared once: {@code struct dm_ioctl} (312 bytes),
 * {@code struct dm_target_spec} (40 bytes), {@code struct dm_target_msg}, the command numbers and the flags.
 * Offsets were checked against gcc's offsetof (java-stack.md §2) and are tested against the kernel in the lab.
 */
final class DmIoctl {
    private DmIoctl() {
    }

    /** The interface version we speak; the kernel accepts any 4.x whose minor is not above its own. */
    static final int VERSION_MAJOR = 4, VERSION_MINOR = 0, VERSION_PATCH = 0;
    static final int NAME_LEN = 128, UUID_LEN = 129;

    static final StructLayout DM_IOCTL = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("version"),
            JAVA_INT.withName("data_size"),
            JAVA_INT.withName("data_start"),
            JAVA_INT.withName("target_count"),
            JAVA_INT.withName("open_count"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("event_nr"),
            JAVA_INT.withName("padding"),
            JAVA_LONG.withName("dev"),
            MemoryLayout.sequenceLayout(NAME_LEN, JAVA_BYTE).withName("name"),
            MemoryLayout.sequenceLayout(UUID_LEN, JAVA_BYTE).withName("uuid"),
            MemoryLayout.sequenceLayout(7, JAVA_BYTE).withName("data"));

    static final StructLayout DM_TARGET_SPEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("sector_start"),
            JAVA_LONG.withName("length"),
            JAVA_INT.withName("status"),
            JAVA_INT.withName("next"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("target_type"));

    /** {@code struct dm_target_msg { __u64 sector; char message[]; }} */
    static final StructLayout DM_TARGET_MSG = MemoryLayout.structLayout(JAVA_LONG.withName("sector"));

    static final long OFF_VERSION = DM_IOCTL.byteOffset(groupElement("version"));
    static final long OFF_DATA_SIZE = DM_IOCTL.byteOffset(groupElement("data_size"));
    static final long OFF_DATA_START = DM_IOCTL.byteOffset(groupElement("data_start"));
    static final long OFF_TARGET_COUNT = DM_IOCTL.byteOffset(groupElement("target_count"));
    static final long OFF_OPEN_COUNT = DM_IOCTL.byteOffset(groupElement("open_count"));
    static final long OFF_FLAGS = DM_IOCTL.byteOffset(groupElement("flags"));
    static final long OFF_EVENT_NR = DM_IOCTL.byteOffset(groupElement("event_nr"));
    static final long OFF_DEV = DM_IOCTL.byteOffset(groupElement("dev"));
    static final long OFF_NAME = DM_IOCTL.byteOffset(groupElement("name"));
    static final long OFF_UUID = DM_IOCTL.byteOffset(groupElement("uuid"));

    static final long SPEC_SECTOR_START = DM_TARGET_SPEC.byteOffset(groupElement("sector_start"));
    static final long SPEC_LENGTH = DM_TARGET_SPEC.byteOffset(groupElement("length"));
    static final long SPEC_STATUS = DM_TARGET_SPEC.byteOffset(groupElement("status"));
    static final long SPEC_NEXT = DM_TARGET_SPEC.byteOffset(groupElement("next"));
    static final long SPEC_TARGET_TYPE = DM_TARGET_SPEC.byteOffset(groupElement("target_type"));

    static final VarHandle FLAGS = DM_IOCTL.varHandle(groupElement("flags"));

    /** Command numbers: {@code _IOWR(0xfd, nr, struct dm_ioctl)}. */
    enum Cmd {
        DM_VERSION(0), DM_REMOVE_ALL(1), DM_LIST_DEVICES(2), DM_DEV_CREATE(3), DM_DEV_REMOVE(4), DM_DEV_RENAME(5),
        DM_DEV_SUSPEND(6), DM_DEV_STATUS(7), DM_DEV_WAIT(8), DM_TABLE_LOAD(9), DM_TABLE_CLEAR(10), DM_TABLE_DEPS(11),
        DM_TABLE_STATUS(12), DM_LIST_VERSIONS(13), DM_TARGET_MSG(14);

        final int nr;

        Cmd(int nr) {
            this.nr = nr;
        }

        long request() {
            return iowr(0xfd, nr, DM_IOCTL.byteSize());
        }
    }

    static long iowr(int type, int nr, long size) {
        return (3L << 30) | (size << 16) | ((long) type << 8) | nr;
    }

    // flags
    static final int DM_READONLY_FLAG = 1, DM_SUSPEND_FLAG = 1 << 1, DM_PERSISTENT_DEV_FLAG = 1 << 3,
            DM_STATUS_TABLE_FLAG = 1 << 4, DM_ACTIVE_PRESENT_FLAG = 1 << 5, DM_INACTIVE_PRESENT_FLAG = 1 << 6,
            DM_BUFFER_FULL_FLAG = 1 << 8, DM_SKIP_BDGET_FLAG = 1 << 9, DM_NOFLUSH_FLAG = 1 << 11,
            DM_UUID_FLAG = 1 << 14, DM_DATA_OUT_FLAG = 1 << 16, DM_DEFERRED_REMOVE = 1 << 17;

    static void putString(MemorySegment seg, long offset, int max, String s, String what) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length >= max) throw new IllegalArgumentException(what + " \"" + s + "\" is " + b.length + " bytes; dm allows " + (max - 1));
        MemorySegment.copy(b, 0, seg, JAVA_BYTE, offset, b.length);
        seg.set(JAVA_BYTE, offset + b.length, (byte) 0);
    }

    static String getString(MemorySegment seg, long offset, int max) {
        int n = 0;
        while (n < max && seg.get(JAVA_BYTE, offset + n) != 0) n++;
        byte[] b = new byte[n];
        MemorySegment.copy(seg, JAVA_BYTE, offset, b, 0, n);
        return new String(b, StandardCharsets.UTF_8);
    }

    static long align8(long n) {
        return (n + 7) & ~7L;
    }
}
