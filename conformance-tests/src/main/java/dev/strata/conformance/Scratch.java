package dev.strata.conformance;

import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;
import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The suite's scratch space: a tmpfs it mounts itself (the host's /tmp is ext4, where each file costs ~0.5 ms),
 * private so that driver mounts under it do not propagate, plus the leak checks, scoped to what lives under it:
 * mounts, loop devices backed by files under it, and dm devices stacked on such loop devices. For a driver that
 * needs its own kind of filesystem (btrfs), tests get their directories on one made on a loop file in the tmpfs
 * ({@link #onFilesystem}); that filesystem and its loop device are the scratch's own, not leftovers.
 */
final class Scratch implements AutoCloseable {
    private final Path root;
    private final AtomicInteger tests = new AtomicInteger();
    private LoopFilesystem backing;

    private Scratch(Path root) {
        this.root = root;
    }

    /**
     * Makes a {@code type} filesystem on a sparse loop file in the tmpfs, for the tests' directories. 8 GiB of
     * sparse file costs the tmpfs only what is written.
     */
    void onFilesystem(String type) throws LoopFilesystem.Unavailable, IOException {
        backing = LoopFilesystem.make(root.resolve(".backing"), type, 8L << 30, null);
    }

    /** Where tests get their directories: the tmpfs, or the filesystem made on it. */
    Path testsDir() {
        return backing == null ? root : backing.mountPoint();
    }

    /** Mounts a fresh tmpfs on a new directory under {@code base}. */
    static Scratch mount(Path base, String label) {
        Path dir;
        try {
            Files.createDirectories(base);
            dir = Files.createTempDirectory(base, "strata-conformance-" + label + "-").toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the scratch mount point under " + base, e);
        }
        try {
            Mounts.mount("strata-conformance", dir, "tmpfs", 0, "mode=0755,size=50%");
            Mounts.mount("none", dir, null, Mounts.MS_PRIVATE | Mounts.MS_REC, null);
        } catch (RuntimeException e) {
            Mounts.unmountIfMounted(dir, Mounts.MNT_DETACH);
            deleteQuietly(dir);
            throw e;
        }
        return new Scratch(dir);
    }

    Path root() {
        return root;
    }

    /** A new, empty directory for one test, named after it so a leak report says whose it was. */
    Path newTestRoot(String testName) {
        String safe = testName.replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = testsDir().resolve(String.format("%03d-%s", tests.incrementAndGet(), safe));
        try {
            return Files.createDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything still mounted or attached under {@code dir} (the scratch tmpfs itself excepted), described. */
    List<String> leftoversUnder(Path dir) {
        List<String> out = new ArrayList<>();
        for (MountInfo m : MountInfo.under(dir)) {
            if (!isOwn(m)) out.add("mount " + m.fsType() + " on " + m.mountPoint());
        }
        for (Loop l : loopsUnder(dir)) if (!isOwn(l)) out.add("loop device /dev/loop" + l.number + " backed by " + l.backingFile);
        for (String dm : dmDevicesOn(loopsUnder(dir))) out.add("dm device " + dm);
        return out;
    }

    /**
     * Unmounts and detaches what {@link #leftoversUnder} found, so one leaking test does not break the next. dm
     * devices cannot be removed without dm ioctls, which this kit does not bind; they are only reported.
     */
    void forceClean(Path dir) {
        unmountBelow(dir);
        detachLoopsUnder(dir);
    }

    /** The scratch tmpfs, and the filesystem made on it with its loop device. */
    private boolean isOwn(MountInfo m) {
        return m.mountPoint().equals(root.toString()) || backing != null && m.mountPoint().equals(backing.mountPoint().toString());
    }

    private boolean isOwn(Loop l) {
        return backing != null && l.backingFile().equals(backing.image().toString());
    }

    /** Unmounts (detaching busy ones) every mount at or under {@code dir} except the scratch's own. */
    private void unmountBelow(Path dir) {
        for (MountInfo m : MountInfo.under(dir)) {
            if (!isOwn(m)) Mounts.unmountIfMounted(Path.of(m.mountPoint()), Mounts.MNT_DETACH);
        }
    }

    private void detachLoopsUnder(Path dir) {
        for (Loop l : loopsUnder(dir)) {
            if (isOwn(l)) continue;
            try (Fd fd = PosixFiles.open(Path.of("/dev/loop" + l.number), PosixFiles.O_RDONLY, 0)) {
                Ioctl.call(fd, LoopDevice.LOOP_CLR_FD, 0L, "LOOP_CLR_FD");
            } catch (SyscallException ignored) {
                // already detached, or held by a dm device: reported by the leak check, nothing more to do
            }
        }
    }

    /**
     * Deletes a test's directory tree (quietly: the tree is on the scratch tmpfs that goes away anyway). Not
     * {@code Trees.deleteQuietly}: that stops at the first entry of another st_dev, which every btrfs subvolume a
     * test leaves is, and gives up the rest.
     */
    static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) return;
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Unmounts everything under the scratch root, then the tmpfs, and removes the mount point. */
    @Override
    public void close() {
        forceClean(root);
        if (backing != null) backing.close();
        Mounts.unmountIfMounted(root, Mounts.MNT_DETACH);
        try {
            Files.deleteIfExists(root);
        } catch (IOException ignored) {
            // a mount point left in /tmp is harmless
        }
    }

    record Loop(int number, String backingFile) {
    }

    /** Loop devices whose backing file is at or under {@code dir} (a deleted backing file still counts). */
    static List<Loop> loopsUnder(Path dir) {
        String prefix = dir.toAbsolutePath().normalize() + "/";
        List<Loop> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
            for (Path d : ds) {
                Path bf = d.resolve("loop/backing_file");
                if (!Files.exists(bf)) continue;
                String backing;
                try {
                    backing = Files.readString(bf).strip();
                } catch (IOException e) {
                    continue; // detached while we looked
                }
                if (backing.startsWith(prefix)) {
                    out.add(new Loop(Integer.parseInt(d.getFileName().toString().substring(4)), backing));
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** dm devices that sit, directly or through other dm devices, on one of {@code loops}. */
    static List<String> dmDevicesOn(List<Loop> loops) {
        List<String> out = new ArrayList<>();
        if (loops.isEmpty()) return out;
        List<String> below = new ArrayList<>();
        for (Loop l : loops) below.add("loop" + l.number);
        boolean grew = true;
        List<String> seen = new ArrayList<>();
        while (grew) {
            grew = false;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/sys/block"), "dm-*")) {
                for (Path d : ds) {
                    String dev = d.getFileName().toString();
                    if (seen.contains(dev)) continue;
                    try (DirectoryStream<Path> slaves = Files.newDirectoryStream(d.resolve("slaves"))) {
                        for (Path s : slaves) {
                            if (below.contains(s.getFileName().toString())) {
                                seen.add(dev);
                                below.add(dev);
                                out.add(dev + " (" + dmName(d) + ")");
                                grew = true;
                                break;
                            }
                        }
                    } catch (IOException ignored) {
                        // removed while we looked
                    }
                }
            } catch (IOException e) {
                return out;
            }
        }
        return out;
    }

    private static String dmName(Path sysBlockDir) {
        try {
            return Files.readString(sysBlockDir.resolve("dm/name")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
