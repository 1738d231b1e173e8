package dev.strata.nativeio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class LoopDeviceTest {
    @TempDir
    Path tmp;

    @Test
    void attachesFormatsMountsAndDetachesWithoutALeak() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root for loop devices");
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no /dev/loop-control");
        assumeTrue(Files.isExecutable(Path.of("/sbin/mkfs.ext4")), "mkfs.ext4 not installed (e2fsprogs)");
        Path img = tmp.resolve("img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(32L << 20);
        }
        Process mkfs = new ProcessBuilder("/sbin/mkfs.ext4", "-q", "-F", img.toString()).inheritIO().start();
        assertTrue(mkfs.waitFor(60, TimeUnit.SECONDS) && mkfs.exitValue() == 0, "mkfs.ext4 failed");

        Path mnt = Files.createDirectory(tmp.resolve("mnt"));
        int number;
        try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
            number = loop.number();
            assertEquals(Integer.valueOf(number), LoopDevice.findAttached(img).orElseThrow());
            Mounts.mount(loop.device().toString(), mnt, "ext4", 0, null);
        }
        try {
            Files.writeString(mnt.resolve("hello"), "on a loop device");
            assertEquals(StatFs.EXT4_MAGIC, StatFs.of(mnt).type());
        } finally {
            Mounts.unmount(mnt, 0);
        }
        // autoclear: the device is free once the last user (the mount) is gone
        for (int i = 0; i < 50 && LoopDevice.findAttached(img).isPresent(); i++) Thread.sleep(20);
        assertTrue(LoopDevice.findAttached(img).isEmpty(), "loop" + number + " still attached to " + img);
    }
}
