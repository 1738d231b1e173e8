package dev.strata.driver.devmapper;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The base device's filesystem: made with mkfs (as Docker does), grown with resize2fs or xfs_growfs, and
 * recognised by the magic numbers in its superblock (moby's ProbeFsType) without blkid.
 */
final class Filesystems {
    private Filesystems() {
    }

    /** mkfs with moby's arguments: ext4 with every inode table written now (no lazy init left to race snapshots). */
    static void make(String fs, Path device, List<String> extraArgs) {
        List<String> cmd = new ArrayList<>();
        switch (fs) {
            case "ext4" -> {
                cmd.addAll(List.of("mkfs.ext4", "-q", "-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0"));
                cmd.addAll(extraArgs);
                cmd.add(device.toString());
                Result r = run(cmd);
                if (r.status != 0) {
                    // older mke2fs without lazy_journal_init
                    cmd.set(3, "nodiscard,lazy_itable_init=0");
                    Result r2 = run(cmd);
                    if (r2.status != 0) throw new StorageException("mkfs.ext4", device.toString(), "Failed to make filesystem: " + r.output.strip());
                }
            }
            case "xfs" -> {
                cmd.addAll(List.of("mkfs.xfs", "-q"));
                cmd.addAll(extraArgs);
                cmd.add(device.toString());
                Result r = run(cmd);
                if (r.status != 0) throw new StorageException("mkfs.xfs", device.toString(), "Failed to make filesystem: " + r.output.strip());
            }
            default -> throw new StorageException("mkfs", device.toString(), "devmapper: Unsupported filesystem " + fs);
        }
    }

    /** Grows the mounted filesystem on {@code device} to the device's size. */
    static void grow(String fs, Path device, Path mountPoint) {
        List<String> cmd = switch (fs) {
            case "ext4" -> List.of("resize2fs", device.toString());
            case "xfs" -> List.of("xfs_growfs", mountPoint.toString());
            default -> throw new StorageException("grow", device.toString(), "Unsupported filesystem type " + fs);
        };
        Result r = run(cmd);
        if (r.status != 0) throw new StorageException(cmd.getFirst(), device.toString(), "Failed to grow rootfs:" + r.output.strip());
    }

    /** "xfs", "ext4" (any ext2/3/4 superblock) or "btrfs"; moby's magic numbers. */
    static String probeType(Path device) {
        byte[] head = read(device, 0, 4);
        if (new String(head, StandardCharsets.US_ASCII).equals("XFSB")) return "xfs";
        byte[] ext = read(device, 0x438, 2);
        if ((ext[0] & 0xff) == 0x53 && (ext[1] & 0xff) == 0xef) return "ext4";
        byte[] btrfs = read(device, 0x10040, 8);
        if (new String(btrfs, StandardCharsets.US_ASCII).equals("_BHRfS_M")) return "btrfs";
        throw new StorageException("probe filesystem", device.toString(), "Unknown filesystem type on " + device);
    }

    /** The filesystem UUID as blkid prints it: ext4's s_uuid at 0x468, xfs's sb_uuid at 32. */
    static String uuid(Path device, String fs) {
        byte[] u = switch (fs) {
            case "ext4" -> read(device, 0x468, 16);
            case "xfs" -> read(device, 32, 16);
            default -> throw new StorageException("uuid", device.toString(), "Unsupported filesystem type " + fs);
        };
        String h = HexFormat.of().formatHex(u);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-" + h.substring(20);
    }

    private static byte[] read(Path device, long offset, int n) {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // keep reading
            }
            return b.array();
        } catch (IOException e) {
            throw new StorageException("read", device.toString(), e.toString(), e);
        }
    }

    private record Result(int status, String output) {
    }

    private static Result run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return new Result(-1, cmd.getFirst() + " did not finish in 10 minutes");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, "cannot run " + cmd.getFirst() + ": " + e.getMessage() + " (install e2fsprogs / xfsprogs)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(cmd.getFirst(), null, "interrupted");
        }
    }
}
