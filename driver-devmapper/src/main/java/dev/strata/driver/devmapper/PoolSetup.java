package dev.strata.driver.devmapper;

import dev.strata.api.StorageException;
import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.logging.Logger;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Finds or makes the thin pool: an existing one ({@code dm.thinpooldev}), one on two raw devices
 * ({@code dm.datadev}/{@code dm.metadatadev}), or moby's loop-lvm: sparse files {@code devicemapper/data} and
 * {@code devicemapper/metadata} on loop devices. Loop devices are attached with autoclear, so they go away by
 * themselves when the pool that holds them is removed (or was never made because a step failed).
 */
final class PoolSetup {
    private static final Logger LOG = Logger.getLogger(PoolSetup.class.getName());
    private static final long BLKGETSIZE64 = 0x80081272L;
    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    private PoolSetup() {
    }

    static ThinPool ensure(DeviceMapper dm, Path home, String prefix, DevmapperOptions o) {
        String name = o.thinPoolDevice() != null ? o.thinPoolDevice() : prefix + "-pool";
        Path dataFile = o.loopBacked() ? home.resolve("devicemapper/data") : null;
        Path metaFile = o.loopBacked() ? home.resolve("devicemapper/metadata") : null;
        var info = dm.info(name);
        if (info.isPresent()) {
            List<DmTarget> table = dm.table(name);
            if (table.isEmpty() || !table.getFirst().type().equals("thin-pool")) {
                throw new StorageException("open", name, "devmapper: Device " + name + " is not a thin pool");
            }
            long block = Long.parseLong(table.getFirst().params().split("\\s+")[2]);
            return new ThinPool(dm, name, info.get().dev(), block, dataFile, metaFile, o.thinPoolDevice() == null);
        }
        if (o.thinPoolDevice() != null) {
            throw new StorageException("open", name, "devmapper: thin pool " + name + " (dm.thinpooldev) does not exist");
        }
        long blockSectors = o.blockSize() / 512;
        if (o.loopBacked()) {
            ensureImage(dataFile, o.loopDataSize());
            ensureImage(metaFile, o.loopMetadataSize());
            try (LoopDevice data = LoopDevice.attach(dataFile, false, true);
                 LoopDevice meta = LoopDevice.attach(metaFile, false, true)) {
                long dataSectors = sizeOf(dataFile) / o.blockSize() * blockSectors;
                long dev = createPool(dm, name, ThinPool.table(dataSectors, meta.devNumber(), data.devNumber(), blockSectors));
                if (WARNED.compareAndSet(false, true)) LOG.warning("Usage of loopback devices is strongly discouraged for production use. Please use `--storage-opt dm.thinpooldev` or use `man dockerd` to refer to dm.thinpooldev section.");
                return new ThinPool(dm, name, dev, blockSectors, dataFile, metaFile, true);
            } // our descriptors close here; the pool holds the loop devices now
        }
        long dataDev = blockDevice(Path.of(o.dataDevice())), metaDev = blockDevice(Path.of(o.metadataDevice()));
        long dataSectors = deviceSize(Path.of(o.dataDevice())) / o.blockSize() * blockSectors;
        long dev = createPool(dm, name, ThinPool.table(dataSectors, metaDev, dataDev, blockSectors));
        return new ThinPool(dm, name, dev, blockSectors, null, null, true);
    }

    private static long createPool(DeviceMapper dm, String name, DmTarget table) {
        dm.create(name, null);
        try {
            dm.load(name, List.of(table));
            long dev = dm.resume(name);
            DeviceNodes.ensure(name, dev);
            return dev;
        } catch (RuntimeException e) {
            try {
                dm.remove(name, false);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** moby's ensureImage: a sparse file of {@code size}, grown when a bigger size is asked for, never shrunk. */
    static void ensureImage(Path file, long size) {
        try {
            Path dir = file.getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long now = ch.size();
                if (now < size) {
                    ch.write(java.nio.ByteBuffer.allocate(1), size - 1); // sparse: only the last byte is written
                } else if (now > size) {
                    LOG.warning("Can't shrink loopback file " + file);
                }
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new StorageException("create loopback file", file.toString(), e.toString(), e);
        }
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new StorageException("stat", file.toString(), e.toString(), e);
        }
    }

    private static long blockDevice(Path dev) {
        Stat st = PosixFiles.statx(null, dev.toString(), 0);
        if (st.type() != Stat.S_IFBLK) throw new StorageException("open", dev.toString(), dev + " is not a block device");
        return st.rdev();
    }

    /** BLKGETSIZE64. */
    static long deviceSize(Path dev) {
        try (Fd fd = PosixFiles.open(dev, PosixFiles.O_RDONLY, 0); Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            Ioctl.call(fd, BLKGETSIZE64, out, "BLKGETSIZE64");
            return out.get(JAVA_LONG, 0);
        }
    }
}
