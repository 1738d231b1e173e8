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
 * A sparse image file formatted as xfs, on an autoclear loop device, mounted with {@code pquota}: the only
 * backing on which moby's and containers/storage's project quotas work. Skips the test (with the reason) when
 * mkfs.xfs or the xfs filesystem is missing.
 */
final class XfsQuotaDisk implements AutoCloseable {
    private final Path image;
    private final Path mountPoint;

    private XfsQuotaDisk(Path image, Path mountPoint) {
        this.image = image;
        this.mountPoint = mountPoint;
    }

    /** xfs refuses filesystems under 300 MiB; 512 MiB of sparse file costs only its metadata on tmpfs. */
    static XfsQuotaDisk create(Path dir) throws IOException {
        Path mkfs = Path.of("/usr/sbin/mkfs.xfs");
        if (!Files.isExecutable(mkfs)) mkfs = Path.of("/sbin/mkfs.xfs");
        assumeTrue(Files.isExecutable(mkfs), "mkfs.xfs not found (Debian: apt-get install xfsprogs)");
        Files.createDirectories(dir);
        Path image = dir.resolve("xfs.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(512L << 20);
        }
        run(mkfs.toString(), "-q", "-f", image.toString());
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
        return new XfsQuotaDisk(image, mnt);
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
