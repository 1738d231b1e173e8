package dev.strata.driver.overlay;

import dev.strata.api.StorageDriver;
import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.NotSupportedException;
import dev.strata.api.Support;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.ProjectQuota;
import dev.strata.nativeio.StatFs;
import dev.strata.nativeio.SyscallException;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Backing filesystems made for the test on loop devices: one without d_type (refused, with moby's words), and xfs
 * with project quotas (layer size limits). Each test detaches its loop device and checks it.
 */
class BackingFsTest extends OnScratchFs {
    @Test
    void anExtfsWithoutFiletypeHasNoDtypeAndIsRefused() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/sbin/mkfs.ext4")), "mkfs.ext4 not installed (e2fsprogs)");
        Path img = LoopFs.makeImage(fs.root, "nofiletype", 64, "/sbin/mkfs.ext4", "-q", "-F", "-O", "^filetype");
        try (LoopFs loop = LoopFs.mount(img, fs.root.resolve("mnt"), "ext4", null)) {
            Path home = loop.mountPoint.resolve("overlay");
            Support s = DriverRegistry.load().require("overlay").probe(home);
            assertFalse(s.supported(), "probe sees DT_UNKNOWN in the existing root dir");
            assertTrue(s.reason().contains("d_type"), s.reason());
            NotSupportedException e = assertThrows(NotSupportedException.class, () -> ScratchFs.open(home));
            assertTrue(e.getMessage().contains("formatted without d_type support")
                    && e.getMessage().contains("extfs") && e.getMessage().contains("-O filetype"), e.getMessage());
        }
    }

    @Test
    void xfsMadeWithFtype0IsRefused() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/sbin/mkfs.xfs")), "mkfs.xfs not installed (xfsprogs)");
        assumeTrue(!"n".equals(Kernel.config("CONFIG_XFS_SUPPORT_V4")),
                "xfs ftype=0 exists only in the V4 format, and this kernel (" + Kernel.release() + ") is built without CONFIG_XFS_SUPPORT_V4");
        Path img = LoopFs.makeImage(fs.root, "ftype0", 320, "/sbin/mkfs.xfs", "-q", "-f", "-m", "crc=0", "-n", "ftype=0");
        LoopFs loop;
        try {
            loop = LoopFs.mount(img, fs.root.resolve("mnt"), "xfs", null);
        } catch (SyscallException e) {
            Files.deleteIfExists(img);
            assumeTrue(false, "the kernel refuses to mount a V4 xfs: " + e.getMessage());
            return;
        }
        try (loop) {
            Path home = loop.mountPoint.resolve("overlay");
            NotSupportedException e = assertThrows(NotSupportedException.class, () -> ScratchFs.open(home));
            assertTrue(e.getMessage().contains("xfs") && e.getMessage().contains("ftype=1"), e.getMessage());
        }
    }

    @Test
    void xfsProjectQuotaLimitsReadWriteLayers() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/sbin/mkfs.xfs")), "mkfs.xfs not installed (xfsprogs)");
        String missing = ProjectQuota.missingKernelSupport(new StatFs(StatFs.XFS_MAGIC, 0, 0, 0, 0, 0, 0, 0, 0));
        assumeTrue(missing == null, missing);
        Path img = LoopFs.makeImage(fs.root, "pquota", 320, "/sbin/mkfs.xfs", "-q", "-f");
        try (LoopFs loop = LoopFs.mount(img, fs.root.resolve("mnt"), "xfs", "pquota")) {
            Path home = loop.mountPoint.resolve("overlay");
            StorageDriver d = ScratchFs.open(home, "overlay.size=4M");
            try {
                Map<String, String> status = status(d);
                assertEquals("xfs", status.get("Backing Filesystem"));
                assertTrue(status.get("Project Quota").startsWith("true"), status.get("Project Quota"));
                assertTrue(d.capabilities().quota());
                d.create("base", null, CreateOptions.NONE);
                d.createReadWrite("limited", "base", CreateOptions.of(Map.of("size", "2M")));
                d.createReadWrite("by-default", "base", CreateOptions.NONE);
                assertQuotaHits(d.get("limited", ""), 2 << 20);
                assertQuotaHits(d.get("by-default", ""), 4 << 20);
                d.put("limited");
                d.put("by-default");
                d.remove("limited");
                d.remove("by-default");
            } finally {
                d.cleanup();
            }
        }
    }

    /** Writing past the limit fails with EDQUOT or ENOSPC, after about {@code limit} bytes. */
    private static void assertQuotaHits(Path root, long limit) {
        byte[] mib = new byte[1 << 20];
        long written = 0;
        IOException hit = null;
        try (OutputStream out = Files.newOutputStream(root.resolve("big"))) {
            for (int i = 0; i < 64; i++) {
                out.write(mib);
                out.flush();
                written += mib.length;
            }
            out.close();
        } catch (IOException e) {
            hit = e;
        }
        assertTrue(hit != null, "wrote " + written + " bytes past a " + limit + "-byte quota");
        String m = String.valueOf(hit.getMessage());
        assertTrue(m.contains("Disk quota exceeded") || m.contains("No space left"), m);
        assertTrue(written <= limit, "wrote " + written + " bytes under a " + limit + "-byte quota");
    }
}
