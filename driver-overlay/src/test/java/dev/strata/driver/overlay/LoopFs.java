package dev.strata.driver.overlay;

import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.SyscallException;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A filesystem made with mkfs on a sparse image, attached to an autoclear loop device and mounted. {@link #close}
 * unmounts it and checks that the loop device went away with the last unmount.
 */
final class LoopFs implements AutoCloseable {
    final Path image;
    final Path mountPoint;
    final int loopNumber;

    private LoopFs(Path image, Path mountPoint, int loopNumber) {
        this.image = image;
        this.mountPoint = mountPoint;
        this.loopNumber = loopNumber;
    }

    /** Runs {@code mkfs...} on a fresh image of {@code sizeMiB}; returns null and leaves nothing if it fails. */
    static Path makeImage(Path dir, String name, int sizeMiB, String... mkfs) throws Exception {
        Path img = dir.resolve(name + ".img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength((long) sizeMiB << 20);
        }
        List<String> cmd = new ArrayList<>(List.of(mkfs));
        cmd.add(img.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            Files.deleteIfExists(img);
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return img;
    }

    /** Attaches and mounts; throws the mount's SyscallException (after detaching) if the kernel refuses. */
    static LoopFs mount(Path image, Path mountPoint, String fsType, String data) throws Exception {
        Files.createDirectories(mountPoint);
        int n;
        try (LoopDevice loop = LoopDevice.attach(image, false, true)) {
            n = loop.number();
            try {
                Mounts.mount(loop.device().toString(), mountPoint, fsType, 0, data);
            } catch (SyscallException e) {
                loop.detach();
                throw e;
            }
        }
        return new LoopFs(image, mountPoint, n);
    }

    @Override
    public void close() throws Exception {
        Mounts.unmountAllUnder(mountPoint);
        for (int i = 0; i < 100 && LoopDevice.findAttached(image).isPresent(); i++) Thread.sleep(20);
        assertTrue(LoopDevice.findAttached(image).isEmpty(), "loop" + loopNumber + " still attached to " + image);
        Files.deleteIfExists(image);
    }
}
