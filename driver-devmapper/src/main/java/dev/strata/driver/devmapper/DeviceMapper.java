package dev.strata.driver.devmapper;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.strata.driver.devmapper.DmIoctl.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The device-mapper control device, {@code /dev/mapper/control}: every call is one ioctl on it, the way libdm makes
 * them, without libdm or dmsetup. Errors are {@link SyscallException}s naming the dm command and the device.
 */
final class DeviceMapper implements AutoCloseable {
    static final Path CONTROL = Path.of("/dev/mapper/control");
    private static final int BUFFER = 16 * 1024;

    private final Fd control;

    private DeviceMapper(Fd control) {
        this.control = control;
    }

    /**
     * Opens the control device, making its node first when the kernel has device-mapper but nothing (no udev,
     * no devtmpfs) made {@code /dev/mapper/control}.
     */
    static DeviceMapper open() {
        if (!Files.exists(CONTROL)) {
            int minor = miscMinor().orElseThrow(() -> new SyscallException("open", CONTROL.toString(), Errno.ENOENT,
                    "device-mapper is not in this kernel (no device-mapper in /proc/misc)"));
            try {
                Files.createDirectories(CONTROL.getParent());
                PosixFiles.mknod(CONTROL, Stat.S_IFCHR | 0600, PosixFiles.makedev(10, minor));
            } catch (IOException e) {
                throw new SyscallException("mkdir", CONTROL.getParent().toString(), Errno.EIO, e.toString());
            } catch (SyscallException e) {
                if (!e.is(Errno.EEXIST)) throw e;
            }
        }
        return new DeviceMapper(PosixFiles.open(CONTROL, PosixFiles.O_RDWR | PosixFiles.O_CLOEXEC, 0));
    }

    /** The misc minor of device-mapper, when the kernel has it loaded. */
    static Optional<Integer> miscMinor() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/misc"))) {
                String[] f = l.trim().split("\\s+");
                if (f.length == 2 && f[1].equals("device-mapper")) return Optional.of(Integer.parseInt(f[0]));
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The kernel's dm interface version, e.g. {4, 47, 0}. */
    int[] version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment io = call(a, Cmd.DM_VERSION, null, 0, null);
            return new int[]{io.get(JAVA_INT, OFF_VERSION), io.get(JAVA_INT, OFF_VERSION + 4), io.get(JAVA_INT, OFF_VERSION + 8)};
        }
    }

    /** DM_LIST_VERSIONS: the target types the kernel has loaded, with their versions ("thin-pool 1.23.0"). */
    List<String> targetVersions() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment io = call(a, Cmd.DM_LIST_VERSIONS, null, 0, null);
            List<String> out = new ArrayList<>();
            long base = io.get(JAVA_INT, OFF_DATA_START);
            long off = base;
            // struct dm_target_versions { u32 next; u32 version[3]; char name[]; }
            for (int guard = 0; guard < 1024; guard++) {
                int next = io.get(JAVA_INT, off);
                String name = getString(io, off + 16, 256);
                out.add(name + " " + io.get(JAVA_INT, off + 4) + "." + io.get(JAVA_INT, off + 8) + "." + io.get(JAVA_INT, off + 12));
                if (next == 0) break;
                off += next;
            }
            return out;
        }
    }

    /** DM_DEV_STATUS, or empty when no device has that name (ENXIO). */
    Optional<DmInfo> info(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment io = call(a, Cmd.DM_DEV_STATUS, name, 0, null);
            return Optional.of(infoOf(io));
        } catch (SyscallException e) {
            if (e.is(Errno.ENXIO)) return Optional.empty();
            throw e;
        }
    }

    /** DM_DEV_CREATE: a device with no table yet. Returns its dev_t. */
    long create(String name, String uuid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment io = call(a, Cmd.DM_DEV_CREATE, name, 0, seg -> {
                if (uuid != null && !uuid.isEmpty()) putString(seg, OFF_UUID, UUID_LEN, uuid, "dm uuid");
            });
            return io.get(JAVA_LONG, OFF_DEV);
        }
    }

    /** DM_TABLE_LOAD into the inactive slot; {@link #resume} makes it live. */
    void load(String name, List<DmTarget> targets) {
        try (Arena a = Arena.ofConfined()) {
            call(a, Cmd.DM_TABLE_LOAD, name, 0, seg -> {
                long off = seg.get(JAVA_INT, OFF_DATA_START);
                for (int i = 0; i < targets.size(); i++) {
                    DmTarget t = targets.get(i);
                    byte[] params = t.params().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    long specSize = align8(DM_TARGET_SPEC.byteSize() + params.length + 1);
                    if (off + specSize > BUFFER) throw new IllegalArgumentException("dm table for " + name + " is too long");
                    seg.set(JAVA_LONG, off + SPEC_SECTOR_START, t.start());
                    seg.set(JAVA_LONG, off + SPEC_LENGTH, t.length());
                    seg.set(JAVA_INT, off + SPEC_STATUS, 0);
                    // on input, next is the offset from this spec to the following one
                    seg.set(JAVA_INT, off + SPEC_NEXT, i == targets.size() - 1 ? 0 : (int) specSize);
                    putString(seg, off + SPEC_TARGET_TYPE, 16, t.type(), "dm target type");
                    MemorySegment.copy(params, 0, seg, JAVA_BYTE, off + DM_TARGET_SPEC.byteSize(), params.length);
                    seg.set(JAVA_BYTE, off + DM_TARGET_SPEC.byteSize() + params.length, (byte) 0);
                    off += specSize;
                }
                seg.set(JAVA_INT, OFF_TARGET_COUNT, targets.size());
            });
        }
    }

    /** DM_DEV_SUSPEND with DM_SUSPEND_FLAG: I/O to the device is held until {@link #resume}. */
    void suspend(String name) {
        try (Arena a = Arena.ofConfined()) {
            call(a, Cmd.DM_DEV_SUSPEND, name, DM_SUSPEND_FLAG, null);
        }
    }

    /** DM_DEV_SUSPEND without the flag: swaps in a loaded table and lets I/O flow. Returns the device's dev_t. */
    long resume(String name) {
        try (Arena a = Arena.ofConfined()) {
            return call(a, Cmd.DM_DEV_SUSPEND, name, 0, null).get(JAVA_LONG, OFF_DEV);
        }
    }

    /**
     * DM_DEV_REMOVE. With {@code deferred}, a device still open is removed by the kernel when its last user closes
     * it (DM_DEFERRED_REMOVE, dm ≥ 4.27), and the call succeeds; without, an open device gives EBUSY.
     */
    void remove(String name, boolean deferred) {
        try (Arena a = Arena.ofConfined()) {
            call(a, Cmd.DM_DEV_REMOVE, name, deferred ? DM_DEFERRED_REMOVE : 0, null);
        }
    }

    /** DM_TARGET_MSG to the target at {@code sector}; returns what the target answered ("" for most messages). */
    String message(String name, long sector, String message) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment io = call(a, Cmd.DM_TARGET_MSG, name, 0, seg -> {
                long off = seg.get(JAVA_INT, OFF_DATA_START);
                seg.set(JAVA_LONG, off, sector);
                putString(seg, off + DM_TARGET_MSG.byteSize(), BUFFER - (int) off - 8, message, "dm message");
            });
            if ((io.get(JAVA_INT, OFF_FLAGS) & DM_DATA_OUT_FLAG) == 0) return "";
            long off = io.get(JAVA_INT, OFF_DATA_START);
            return getString(io, off, (int) (BUFFER - off));
        }
    }

    /** Cancels a pending deferred removal (libdm's "@cancel_deferred_remove" message). */
    void cancelDeferredRemove(String name) {
        message(name, 0, "@cancel_deferred_remove");
    }

    /** DM_TABLE_STATUS: each target's status line. */
    List<DmTarget> status(String name) {
        return tableOrStatus(name, 0);
    }

    /** DM_TABLE_STATUS with DM_STATUS_TABLE_FLAG: the live table. */
    List<DmTarget> table(String name) {
        return tableOrStatus(name, DM_STATUS_TABLE_FLAG);
    }

    private List<DmTarget> tableOrStatus(String name, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment io = call(a, Cmd.DM_TABLE_STATUS, name, flags, null);
            int count = io.get(JAVA_INT, OFF_TARGET_COUNT);
            long base = io.get(JAVA_INT, OFF_DATA_START);
            List<DmTarget> out = new ArrayList<>();
            long off = base;
            for (int i = 0; i < count; i++) {
                long start = io.get(JAVA_LONG, off + SPEC_SECTOR_START);
                long length = io.get(JAVA_LONG, off + SPEC_LENGTH);
                int next = io.get(JAVA_INT, off + SPEC_NEXT);
                String type = getString(io, off + SPEC_TARGET_TYPE, 16);
                String params = getString(io, off + DM_TARGET_SPEC.byteSize(), (int) (BUFFER - off - DM_TARGET_SPEC.byteSize()));
                out.add(new DmTarget(start, length, type, params));
                off = base + next; // on output, next is the offset from the start of the data area
            }
            return out;
        }
    }

    private interface Filler {
        void fill(MemorySegment seg);
    }

    /**
     * Makes one dm ioctl. The buffer is the dm_ioctl header followed by a data area; when the kernel says the
     * buffer was too small (DM_BUFFER_FULL_FLAG) the call is made again with a bigger one.
     */
    private MemorySegment call(Arena a, Cmd cmd, String name, int flags, Filler filler) {
        int size = BUFFER;
        for (int attempt = 0; ; attempt++) {
            MemorySegment seg = a.allocate(size, 8);
            seg.set(JAVA_INT, OFF_VERSION, VERSION_MAJOR);
            seg.set(JAVA_INT, OFF_VERSION + 4, VERSION_MINOR);
            seg.set(JAVA_INT, OFF_VERSION + 8, VERSION_PATCH);
            seg.set(JAVA_INT, OFF_DATA_SIZE, size);
            seg.set(JAVA_INT, OFF_DATA_START, (int) DM_IOCTL.byteSize());
            seg.set(JAVA_INT, OFF_FLAGS, flags);
            if (name != null) putString(seg, OFF_NAME, NAME_LEN, name, "dm device name");
            if (filler != null) filler.fill(seg);
            try {
                Ioctl.call(control, cmd.request(), seg, cmd.name());
            } catch (SyscallException e) {
                throw new SyscallException("ioctl " + cmd.name(), name == null ? CONTROL.toString() : name, e.errno(), KernelLog.dmTail());
            }
            if ((seg.get(JAVA_INT, OFF_FLAGS) & DM_BUFFER_FULL_FLAG) != 0 && attempt < 4) {
                size *= 4;
                continue;
            }
            return seg;
        }
    }

    private static DmInfo infoOf(MemorySegment io) {
        return new DmInfo(getString(io, OFF_NAME, NAME_LEN), io.get(JAVA_LONG, OFF_DEV), io.get(JAVA_INT, OFF_OPEN_COUNT),
                io.get(JAVA_INT, OFF_EVENT_NR), io.get(JAVA_INT, OFF_FLAGS), io.get(JAVA_INT, OFF_TARGET_COUNT));
    }

    @Override
    public void close() {
        control.close();
    }
}
