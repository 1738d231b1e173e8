package dev.strata.conformance;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A filesystem of a given type made with {@code mkfs.<type>} on a sparse image file, attached to an autoclear
 * loop device and mounted: what a test needs when a driver wants a filesystem the scratch space is not (btrfs), or
 * a feature it lacks (xfs project quotas). Closing unmounts it, and the kernel then detaches the loop device.
 */
public final class LoopFilesystem implements AutoCloseable {
    /** Why a loop filesystem cannot be made here (no mkfs, or no such filesystem in the kernel). */
    public static final class Unavailable extends Exception {
        Unavailable(String why) {
            super(why);
        }
    }

    private final Path image;
    private final Path mountPoint;

    private LoopFilesystem(Path image, Path mountPoint) {
        this.image = image;
        this.mountPoint = mountPoint;
    }

    /**
     * Makes {@code dir/<type>.img} of {@code size} bytes (sparse: on a tmpfs it costs only what is written),
     * formats and mounts it on {@code dir/mnt} with {@code mountData} (may be null).
     */
    public static LoopFilesystem make(Path dir, String type, long size, String mountData) throws Unavailable, IOException {
        return make(dir, type, size, java.util.List.of(), mountData);
    }

    /** As above, with options for {@code mkfs.<type>} (btrfs's {@code --mixed}, say, for a filesystem of a few MiB). */
    public static LoopFilesystem make(Path dir, String type, long size, java.util.List<String> mkfsOptions, String mountData)
            throws Unavailable, IOException {
        Path mkfs = mkfs(type);
        Files.createDirectories(dir);
        Path image = dir.resolve(type + ".img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(mkfs.toString(), "-q", "-f"));
        cmd.addAll(mkfsOptions);
        cmd.add(image.toString());
        run(cmd.toArray(String[]::new));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (LoopDevice loop = LoopDevice.attach(image, false, true)) {
            try {
                Mounts.mount(loop.device().toString(), mnt, type, 0, mountData);
            } catch (SyscallException e) {
                loop.detach();
                if (e.is(Errno.ENODEV)) throw new Unavailable(type + " is not available in this kernel: " + e.getMessage());
                throw e;
            }
        } // our descriptor closed, the device stays with the mount; autoclear detaches it after the unmount
        return new LoopFilesystem(image, mnt);
    }

    /** {@code mkfs.<type>} in /usr/sbin or /sbin. */
    static Path mkfs(String type) throws Unavailable {
        for (String d : new String[]{"/usr/sbin", "/sbin"}) {
            Path p = Path.of(d, "mkfs." + type);
            if (Files.isExecutable(p)) return p;
        }
        String pkg = switch (type) {
            case "btrfs" -> "btrfs-progs";
            case "xfs" -> "xfsprogs";
            default -> "e2fsprogs";
        };
        throw new Unavailable("mkfs." + type + " not found (Debian: apt-get install " + pkg + ")");
    }

    public Path mountPoint() {
        return mountPoint;
    }

    public Path image() {
        return image;
    }

    /**
     * After {@link #make} failed to mount with its data: whether the image it left in {@code dir} mounts without
     * any, so that it is the data the kernel refuses (a feature this kernel was built without).
     */
    static boolean mountsWithoutData(Path dir, String type) {
        Path image = dir.resolve(type + ".img"), mnt = dir.resolve("mnt");
        try (LoopDevice loop = LoopDevice.attach(image, false, true)) {
            try {
                Mounts.mount(loop.device().toString(), mnt, type, 0, null);
            } catch (SyscallException e) {
                loop.detach();
                return false;
            }
        }
        Mounts.unmount(mnt, 0);
        waitDetached(image);
        return true;
    }

    /** Unmounts (detaching if busy) and waits briefly for the kernel to autoclear the loop device. */
    @Override
    public void close() {
        try {
            Mounts.unmount(mountPoint, 0);
        } catch (SyscallException e) {
            if (e.is(Errno.EINVAL)) return; // not mounted
            if (!e.is(Errno.EBUSY)) throw e;
            Mounts.unmount(mountPoint, Mounts.MNT_DETACH);
        }
        waitDetached(image);
    }

    static void waitDetached(Path image) {
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

    static void run(String... command) throws IOException {
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
