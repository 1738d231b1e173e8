package dev.strata.driver.devmapper;

import dev.strata.api.StorageException;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Mounting a thin device's filesystem (moby's MountDevice/UnmountDevice) and growing it. */
final class DeviceMounts {
    private DeviceMounts() {
    }

    /** Activates and mounts device {@code hash} on {@code target}, with nouuid for xfs, dm.mountopt and the label. */
    static void mount(DeviceSet ds, String hash, Path target, String mountLabel) {
        ds.lock.locked(() -> {
            DevInfo info = ds.info(hash);
            if (info == null) throw new StorageException("mount", hash, "devmapper: Unknown device " + hash);
            if (info.deleted()) {
                throw new StorageException("mount", hash, "devmapper: Can't mount device " + hash + " as it has been marked for deferred deletion");
            }
            Path dev;
            try {
                dev = ds.activate(hash, info);
            } catch (RuntimeException e) {
                throw new StorageException("mount", hash, "devmapper: Error activating devmapper device for '" + hash + "': " + e.getMessage(), e);
            }
            String fs = Filesystems.probeType(dev);
            String options = join(fs.equals("xfs") ? "nouuid" : "", ds.opts.mountOptions());
            if (mountLabel != null && !mountLabel.isEmpty()) options = join(options, "context=\"" + mountLabel + "\"");
            try {
                Mounts.mount(dev.toString(), target, fs, 0, options.isEmpty() ? null : options);
            } catch (SyscallException e) {
                ds.deactivate(hash);
                throw new StorageException("mount", target.toString(), "Failed to mount; dmesg: " + KernelLog.tail(4) + ": " + e.getMessage(), e);
            }
            if (fs.equals("xfs") && ds.opts.xfsNospaceMaxRetries() != null) {
                try {
                    setXfsNospaceRetries(dev, ds.opts.xfsNospaceMaxRetries());
                } catch (RuntimeException e) {
                    Mounts.unmountIfMounted(target, Mounts.MNT_DETACH);
                    ds.deactivate(hash);
                    throw e;
                }
            }
        });
    }

    /** Unmounts (detaching, as moby) and deactivates, deferred when that is on. */
    static void unmount(DeviceSet ds, String hash, Path target) {
        ds.lock.locked(() -> {
            Mounts.unmountIfMounted(target, Mounts.MNT_DETACH);
            ds.deactivate(hash);
        });
    }

    /** moby's growFS: mount the device aside and let resize2fs / xfs_growfs take the whole (bigger) device. */
    static void growFs(DeviceSet ds, String hash) {
        ds.lock.locked(() -> {
            DevInfo info = ds.info(hash);
            Path dev = ds.activate(hash, info);
            Path mnt = ds.home.resolve("mnt").resolve(".grow-" + (hash.isEmpty() ? "base" : hash));
            try {
                Files.createDirectories(mnt);
                String fs = Filesystems.probeType(dev);
                try {
                    Mounts.mount(dev.toString(), mnt, fs, 0, join(fs.equals("xfs") ? "nouuid" : "", ds.opts.mountOptions()).transform(s -> s.isEmpty() ? null : s));
                } catch (SyscallException e) {
                    throw new StorageException("mount", mnt.toString(), "Failed to mount; dmesg: " + KernelLog.tail(4) + ": " + e.getMessage(), e);
                }
                try {
                    Filesystems.grow(fs, dev, mnt);
                } finally {
                    Mounts.unmountIfMounted(mnt, Mounts.MNT_DETACH);
                }
            } catch (IOException e) {
                throw new StorageException("grow", mnt.toString(), e.toString(), e);
            } finally {
                try {
                    Files.deleteIfExists(mnt);
                } catch (IOException ignored) {
                    // a leftover empty directory under mnt/ is harmless
                }
                ds.deactivate(hash, false);
            }
        });
    }

    private static void setXfsNospaceRetries(Path dev, long retries) {
        try {
            // dm's kernel names are dm-<minor>; our node under /dev/mapper is a node, not udev's link to it
            String dmName = "dm-" + PosixFiles.statx(null, dev.toString(), 0).rdevMinor();
            Path f = Path.of("/sys/fs/xfs", dmName, "error/metadata/ENOSPC/max_retries");
            Files.writeString(f, Long.toString(retries));
        } catch (IOException | RuntimeException e) {
            throw new StorageException("mount", dev.toString(), "devmapper: user specified daemon option dm.xfs_nospace_max_retries but it does not seem to be supported on this system :" + e.getMessage(), e);
        }
    }

    static String join(String a, String b) {
        if (a == null || a.isEmpty()) return b == null ? "" : b;
        if (b == null || b.isEmpty()) return a;
        return a + "," + b;
    }
}
