package dev.strata.kernellab;

import dev.strata.nativeio.LoopDevice;

import java.nio.file.Files;
import java.nio.file.Path;

/** A guest command that attaches a loop device without autoclear and exits: the lab must report it. */
public final class LeaveALoopDevice {
    private LeaveALoopDevice() {
    }

    public static void main(String[] args) throws Exception {
        Path f = Path.of(System.getProperty("java.io.tmpdir"), "leaked.img");
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(0).write(java.nio.ByteBuffer.allocate(1), (1 << 20) - 1);
        }
        LoopDevice l = LoopDevice.attach(f, false, false);
        l.close();
        System.out.println("left " + l.device() + " attached to " + f + (Files.exists(f) ? "" : " (gone)"));
    }
}
