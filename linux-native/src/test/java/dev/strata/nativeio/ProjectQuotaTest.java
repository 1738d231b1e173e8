package dev.strata.nativeio;

import dev.strata.api.NotSupportedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ProjectQuotaTest {
    @TempDir
    Path tmp;

    @Test
    void xfsWithPquotaLimitsADirectory() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount");
        assumeTrue(Kernel.hasFilesystem("xfs"), "xfs not in /proc/filesystems");
        assumeTrue(Files.isExecutable(Path.of("/sbin/mkfs.xfs")), "mkfs.xfs not installed (xfsprogs)");
        assumeTrue(!"n".equals(Kernel.config("CONFIG_XFS_QUOTA")),
                "XFS quota support is not in this kernel (CONFIG_XFS_QUOTA is not set in " + Kernel.release() + ")");
        Path img = tmp.resolve("xfs.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(300L << 20);
        }
        Process mkfs = new ProcessBuilder("/sbin/mkfs.xfs", "-q", "-f", img.toString()).inheritIO().start();
        assertTrue(mkfs.waitFor(60, TimeUnit.SECONDS) && mkfs.exitValue() == 0, "mkfs.xfs failed");
        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
            Mounts.mount(loop.device().toString(), mnt, "xfs", 0, "pquota");
        }
        try {
            Path home = Files.createDirectory(mnt.resolve("home"));
            ProjectQuota q = ProjectQuota.open(home);
            Path layer = Files.createDirectory(home.resolve("layer"));
            q.set(layer, 10L << 20, 0);
            write(layer.resolve("small"), 4L << 20);
            IOException full = assertThrows(IOException.class, () -> write(layer.resolve("big"), 20L << 20));
            assertTrue(full.getMessage().contains("quota") || full.getMessage().contains("space"), full.getMessage());
            ProjectQuota.Usage u = q.usage(layer);
            assertEquals(10L << 20, u.bytesLimit());
            assertTrue(u.bytesUsed() >= (4L << 20), "used " + u.bytesUsed());
            // A second instance finds the id again from the directory itself.
            ProjectQuota again = ProjectQuota.open(home);
            assertEquals(10L << 20, again.usage(layer).bytesLimit());
        } finally {
            Mounts.unmount(mnt, 0);
        }
    }

    @Test
    void aFilesystemWithoutProjectQuotasSaysSo() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount");
        Path mnt = Files.createDirectory(tmp.resolve("tmpfs"));
        Mounts.mount("strata-test", mnt, "tmpfs", 0, "size=8m");
        try {
            NotSupportedException e = assertThrows(NotSupportedException.class, () -> ProjectQuota.open(mnt));
            assertTrue(e.reason().contains("tmpfs"), e.getMessage());
        } finally {
            Mounts.unmount(mnt, 0);
        }
    }

    private static void write(Path f, long bytes) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(f)) {
            for (long n = 0; n < bytes; n += buf.length) out.write(buf);
            out.flush();
        }
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }
}
