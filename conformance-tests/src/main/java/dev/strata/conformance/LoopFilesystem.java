package dev.strata.conformance;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A sparse image file with a filesystem of its own, on an autoclear loop device, mounted: xfs with {@code pquota}
 * (the only backing on which moby's and containers/storage's project quotas work), or ext4 without d_type. Skips the
 * test (with the reason) when the mkfs tool or the filesystem is missing.
 */
final class LoopFilesystem implements AutoCloseable {
    private final Path image;
    private final Path mountPoint;

    private LoopFilesystem(Path image, Path mountPoint) {
        this.image = image;
        this.mountPoint = mountPoint;
    }

    /** xfs refuses filesystems under 300 MiB; 512 MiB of sparse file costs only its metadata on tmpfs. */
    static LoopFilesystem xfsWithProjectQuota(Path dir) throws IOException {
        Path image = image(dir, "xfs", 512L << 20, "xfsprogs", "-q", "-f");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (LoopDevice loop = LoopDevice.attach(image, false, true)) {
            try {
                Mounts.mount(loop.device().toString(), mnt, "xfs", 0, "pquota");
            } catch (SyscallException e) {
                try {
                    assumeTrue(!e.is(Errno.ENODEV), "xfs is not available in this kernel: " + e.getMessage());
                    assumeTrue(!(e.is(Errno.EINVAL) && mountsWithoutQuota(loop, mnt)),
                            "this kernel's xfs mounts without quotas but refuses pquota (no CONFIG_XFS_QUOTA)");
                    throw e;
                } finally {
                    loop.detach();
                }
            }
        } // closing our descriptor leaves the device to the mount; autoclear detaches it after the unmount
        return new LoopFilesystem(image, mnt);
    }

    /**
     * ext4 made with {@code -O ^filetype}: every directory entry reads back as DT_UNKNOWN, so a walk that trusts
     * d_type misses everything (overlay refuses such a backing, as moby's does).
     */
    static LoopFilesystem ext4WithoutFiletype(Path dir) throws IOException {
        Path image = image(dir, "ext4", 64L << 20, "e2fsprogs", "-q", "-F", "-O", "^filetype", "-E", "nodiscard");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (LoopDevice loop = LoopDevice.attach(image, false, true)) {
            try {
                Mounts.mount(loop.device().toString(), mnt, "ext4", 0, null);
            } catch (SyscallException e) {
                loop.detach();
                assumeTrue(!e.is(Errno.ENODEV), "ext4 is not available in this kernel: " + e.getMessage());
                throw e;
            }
        }
        return new LoopFilesystem(image, mnt);
    }

    /** A sparse image of {@code size} bytes under {@code dir}, formatted by mkfs.{@code type} with {@code options}. */
    private static Path image(Path dir, String type, long size, String debianPackage, String... options) throws IOException {
        Path mkfs = Path.of("/usr/sbin/mkfs." + type);
        if (!Files.isExecutable(mkfs)) mkfs = Path.of("/sbin/mkfs." + type);
        assumeTrue(Files.isExecutable(mkfs), "mkfs." + type + " not found (Debian: apt-get install " + debianPackage + ")");
        Files.createDirectories(dir);
        Path image = dir.resolve(type + ".img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        String[] cmd = new String[options.length + 2];
        cmd[0] = mkfs.toString();
        System.arraycopy(options, 0, cmd, 1, options.length);
        cmd[cmd.length - 1] = image.toString();
        run(cmd);
        return image;
    }

    /** Whether the same filesystem mounts without {@code pquota}: then it is the quota support that is missing. */
    private static boolean mountsWithoutQuota(LoopDevice loop, Path mnt) {
        try {
            Mounts.mount(loop.device().toString(), mnt, "xfs", 0, null);
        } catch (SyscallException e) {
            return false;
        }
        Mounts.unmount(mnt, 0);
        return true;
    }

    Path mountPoint() {
        return mountPoint;
    }

    /** Unmounts and waits (briefly) for the kernel to autoclear the loop device. */
    @Override
    public void close() {
        try {
            Mounts.unmount(mountPoint, 0);
        } catch (SyscallException e) {
            if (!e.is(Errno.EBUSY)) throw e;
            Mounts.unmount(mountPoint, Mounts.MNT_DETACH);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (LoopDevice.findAttached(image).isPresent() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 120 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + command[0], e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out);
    }
}
