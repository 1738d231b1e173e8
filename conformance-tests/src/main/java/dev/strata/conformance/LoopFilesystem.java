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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.abort;

/**
 * A sparse image file with a filesystem of its own, made by {@code mkfs.<type>}, on an autoclear loop device,
 * mounted: what a test needs when a driver wants a filesystem the scratch space is not (btrfs), or a feature it
 * lacks (xfs with {@code pquota}, the only backing on which moby's and containers/storage's project quotas work), or
 * one it must cope without (ext4 without d_type). Closing unmounts it, and the kernel then detaches the loop device.
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
        return make(dir, type, size, List.of(), mountData);
    }

    /** As above, with more options for {@code mkfs.<type>} (btrfs's {@code --mixed}, say, for a filesystem of a few MiB). */
    public static LoopFilesystem make(Path dir, String type, long size, List<String> mkfsOptions, String mountData)
            throws Unavailable, IOException {
        Path image = image(dir, type, size, mkfsOptions);
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

    /** xfs refuses filesystems under 300 MiB; 512 MiB of sparse file costs only its metadata on tmpfs. Skips where it cannot. */
    static LoopFilesystem xfsWithProjectQuota(Path dir) throws IOException {
        try {
            return make(dir, "xfs", 512L << 20, "pquota");
        } catch (Unavailable e) {
            return abort(e.getMessage());
        } catch (SyscallException e) {
            if (e.is(Errno.EINVAL) && mountsWithoutData(dir, "xfs")) {
                return abort("this kernel's xfs mounts without quotas but refuses pquota (no CONFIG_XFS_QUOTA)");
            }
            throw e;
        }
    }

    /**
     * ext4 made with {@code -O ^filetype}: every directory entry reads back as DT_UNKNOWN, so a walk that trusts
     * d_type misses everything (overlay refuses such a backing, as moby's does). Skips where it cannot.
     */
    static LoopFilesystem ext4WithoutFiletype(Path dir) throws IOException {
        try {
            return make(dir, "ext4", 64L << 20, List.of("-O", "^filetype", "-E", "nodiscard"), null);
        } catch (Unavailable e) {
            return abort(e.getMessage());
        }
    }

    /** A sparse image of {@code size} bytes under {@code dir}, formatted (quietly, forced) by mkfs.{@code type}. */
    private static Path image(Path dir, String type, long size, List<String> options) throws Unavailable, IOException {
        Path mkfs = mkfs(type);
        Files.createDirectories(dir);
        Path image = dir.resolve(type + ".img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        List<String> cmd = new ArrayList<>(List.of(mkfs.toString(), "-q", type.startsWith("ext") ? "-F" : "-f"));
        cmd.addAll(options);
        cmd.add(image.toString());
        run(cmd);
        return image;
    }

    /** {@code mkfs.<type>} in /usr/sbin or /sbin. */
    private static Path mkfs(String type) throws Unavailable {
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

    /**
     * After {@link #make} failed to mount with its data: whether the image it left in {@code dir} mounts without
     * any, so that it is the data the kernel refuses (a feature this kernel was built without).
     */
    private static boolean mountsWithoutData(Path dir, String type) {
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

    public Path mountPoint() {
        return mountPoint;
    }

    public Path image() {
        return image;
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

    private static void waitDetached(Path image) {
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

    private static void run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 120 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + command.get(0), e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out);
    }
}
