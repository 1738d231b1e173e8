package dev.strata.driver.overlay;

import dev.strata.nativeio.Trees;
import dev.strata.api.NotSupportedException;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import dev.strata.nativeio.DirEntries;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.FsContext;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountRoots;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.StatFs;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Xattrs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds out what overlay can do on this kernel over the filesystem under the home, as moby's overlay2 Init does:
 * a test mount with two lowers (with the configured options, so a bad {@code overlay.mountopt} fails here and not
 * at the first get), d_type, and whether native diff is safe (moby's check.go: the opaque flag must not be copied
 * up, and a directory rename must not leave a redirect; plus c/s's metacopy check, since a metacopy upper file
 * holds no data).
 */
final class OverlayProbe {
    /** Filesystems overlay cannot use as upper (moby and c/s refuse these). */
    private static final Set<String> BAD_BACKING = Set.of("overlayfs", "aufs", "ecryptfs");
    /**
     * Results per (mount, options): opening a driver again on the same filesystem need not mount again. Keyed by the
     * kernel's never-reused mount id, not the device number: a loop device's number is handed to the next
     * filesystem attached to it. Without that id (before Linux 6.8) nothing is cached.
     */
    private static final Map<String, Features> CACHE = new ConcurrentHashMap<>();
    /** Scratch dirs of the probe; named so they are recognisable in a parent directory too. */
    static final String PROBE_PREFIX = ".strata-overlay-probe-";

    private OverlayProbe() {
    }

    /** The provider's cheap check: changes nothing on disk. */
    static Support quick(Path home) {
        if (!Kernel.hasFilesystem("overlay")) {
            return Support.no("overlay is not in /proc/filesystems (load the overlay module, or use a kernel built with CONFIG_OVERLAY_FS)");
        }
        if (!Kernel.isRoot() && !Kernel.inUserNamespace()) {
            return Support.no("mounting overlay needs root, or a user namespace (rootless) on Linux 5.11 or newer");
        }
        StatFs fs;
        try {
            fs = StatFs.ofNearest(home);
        } catch (StorageException e) {
            return Support.no("cannot statfs " + home + ": " + e.getMessage());
        }
        if (BAD_BACKING.contains(fs.typeName())) {
            return Support.no("'overlay' is not supported over " + fs.typeName() + " at " + home);
        }
        Boolean dType = dTypeOfExisting(nearest(home));
        if (Boolean.FALSE.equals(dType)) return Support.no(noDType(fs.typeName()));
        return Support.yes("overlay over " + fs.typeName() + (Kernel.atLeast(6, 8) ? ", new mount API with lowerdir+" : ", mount(2)"));
    }

    /**
     * The full check when opening: makes, mounts and removes a scratch directory in {@code home} (the driver's home,
     * or its parent while the home does not exist yet).
     */
    static Features probe(Path home, OverlayOptions options) {
        if (!Kernel.hasFilesystem("overlay")) {
            throw new NotSupportedException("open", home.toString(), "overlay is not in /proc/filesystems");
        }
        StatFs fs = StatFs.of(home);
        String backing = fs.typeName();
        if (BAD_BACKING.contains(backing)) {
            throw new NotSupportedException("open", home.toString(), "'overlay' is not supported over " + backing);
        }
        long mountId = MountRoots.uniqueMountId(home);
        if (mountId < 0) return runProbe(home, options, backing);
        String key = mountId + "|" + options.userxattr() + "|" + options.mount() + "|" + options.mountApi();
        Features cached = CACHE.get(key);
        if (cached != null) return cached;
        Features f = runProbe(home, options, backing);
        CACHE.put(key, f);
        return f;
    }

    private static Features runProbe(Path home, OverlayOptions options, String backing) {
        boolean lowerdirPlus = supportsLowerdirPlus(home);
        OverlayMounter.Policy policy = switch (options.mountApi()) {
            case AUTO -> OverlayMounter.Policy.AUTO;
            case MOUNT -> OverlayMounter.Policy.MOUNT;
            case FSOPEN -> {
                if (!lowerdirPlus) {
                    throw new NotSupportedException("open", home.toString(), OverlayOptions.MOUNT_API
                            + "=fsopen needs fsconfig(lowerdir+), which this kernel (" + Kernel.release() + ") lacks (Linux 6.8+)");
                }
                yield OverlayMounter.Policy.FSOPEN;
            }
        };
        boolean indexOff = Files.exists(Path.of("/sys/module/overlay/parameters/index"));
        boolean selinux = Files.exists(Path.of("/sys/fs/selinux/enforce"));
        OverlayMounter mounter = new OverlayMounter(policy, lowerdirPlus, indexOff, options.userxattr(), options.mount(), selinux);
        String prefix = options.userxattr() ? "user.overlay." : "trusted.overlay.";

        Path td = home.resolve(PROBE_PREFIX + Layout.newLinkId());
        try {
            Files.createDirectory(td);
            boolean dType = dTypeByCreating(td);
            if (!dType) throw new NotSupportedException("open", home.toString(), noDType(backing));
            String naiveReason = nativeDiffProblem(td, mounter, prefix);
            return new Features(backing, true, lowerdirPlus ? policy : OverlayMounter.Policy.MOUNT, lowerdirPlus, indexOff, selinux,
                    naiveReason == null, naiveReason);
        } catch (IOException e) {
            throw new StorageException("probe overlay", td.toString(), e.toString(), e);
        } finally {
            Mounts.unmountAllUnder(td);
            Trees.deleteQuietly(td);
        }
    }

    /**
     * Returns null when native diff is safe, otherwise why not. Throws NotSupportedException when overlay cannot
     * mount here at all.
     */
    private static String nativeDiffProblem(Path td, OverlayMounter mounter, String prefix) throws IOException {
        for (String d : List.of("l1/d", "l1/d1", "l2/d", "l3", "work", "merged")) Files.createDirectories(td.resolve(d));
        Files.writeString(td.resolve("l1/f"), "probe");
        try {
            Xattrs.set(td.resolve("l2/d"), prefix + "opaque", "y".getBytes(StandardCharsets.US_ASCII));
        } catch (SyscallException e) {
            return "cannot set " + prefix + "opaque on the backing filesystem: " + e.getMessage();
        }
        Path merged = td.resolve("merged");
        try {
            mounter.mount(merged.toString(), List.of(td.resolve("l2").toString(), td.resolve("l1").toString()), td.resolve("l3").toString(),
                    td.resolve("work").toString(), null);
        } catch (StorageException e) {
            throw new NotSupportedException("open", td.getParent().toString(), "overlay cannot mount here"
                    + (mounter.extra().params().isEmpty() && mounter.extra().attrFlags() == 0 ? "" : " with options " + mounter.extra())
                    + ": " + e.getMessage());
        }
        List<String> problems = new java.util.ArrayList<>();
        try {
            Files.writeString(merged.resolve("d/f"), "");
            byte[] opaque = Xattrs.get(td.resolve("l3/d"), prefix + "opaque");
            if (opaque != null && new String(opaque, StandardCharsets.US_ASCII).equals("y")) {
                problems.add("opaque flag erroneously copied up, consider update to kernel 4.8 or later to fix");
            }
            Files.setPosixFilePermissions(merged.resolve("f"), PosixFilePermissions.fromString("rw-------"));
            if (Xattrs.get(td.resolve("l3/f"), prefix + "metacopy") != null) {
                problems.add("metacopy is on: a copied-up file may hold only metadata, its data stays in a lower layer");
            }
            try {
                PosixFiles.renameat2(null, merged.resolve("d1").toString(), null, merged.resolve("d2").toString(), 0);
                if (Xattrs.get(td.resolve("l3/d2"), prefix + "redirect") != null) {
                    problems.add("redirect_dir is enabled (kernel CONFIG_OVERLAY_FS_REDIRECT_DIR, redirect_dir=on or metacopy=on): "
                            + "a renamed directory is kept as a redirect the upper dir alone cannot describe");
                }
            } catch (SyscallException e) {
                if (!e.is(Errno.EXDEV)) problems.add("rename of a directory in the merged dir failed: " + e.getMessage());
            }
            return problems.isEmpty() ? null : String.join("; ", problems);
        } finally {
            Mounts.unmountIfMounted(merged, 0);
        }
    }

    /** Whether fsconfig takes {@code lowerdir+}: configures a context without creating a superblock. */
    static boolean supportsLowerdirPlus(Path existingDir) {
        if (!Kernel.atLeast(6, 8)) return false;
        try (FsContext fc = FsContext.open("overlay")) {
            fc.set("lowerdir+", existingDir.toString());
            return true;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static boolean dTypeByCreating(Path td) throws IOException {
        Path dir = Files.createDirectory(td.resolve("dtype"));
        Files.createFile(dir.resolve("f"));
        return DirEntries.list(dir).stream().allMatch(e -> e.type() != DirEntries.DT_UNKNOWN);
    }

    /** d_type as seen in an existing directory's entries: null when it has none to look at. */
    private static Boolean dTypeOfExisting(Path dir) {
        try {
            List<DirEntries.Entry> entries = DirEntries.list(dir);
            if (entries.isEmpty()) return null;
            return entries.stream().allMatch(e -> e.type() != DirEntries.DT_UNKNOWN);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Path nearest(Path p) {
        Path q = p.toAbsolutePath().normalize();
        while (q != null && !Files.isDirectory(q)) q = q.getParent();
        return q == null ? Path.of("/") : q;
    }

    /** moby's ErrDTypeNotSupported text. */
    static String noDType(String backingFs) {
        String msg = "overlay: the backing " + backingFs + " filesystem is formatted without d_type support, which leads to incorrect behavior.";
        if (backingFs.equals("xfs")) msg += " Reformat the filesystem with ftype=1 to enable d_type support.";
        if (backingFs.equals("extfs")) msg += " Reformat the filesystem (or use tune2fs) with -O filetype flag to enable d_type support.";
        return msg + " Backing filesystems without d_type support are not supported.";
    }

    /** Hidden scratch directories a crash may leave behind. */
    static void removeLeftoverProbes(Path home) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(home, PROBE_PREFIX + "*")) {
            for (Path p : ds) {
                Mounts.unmountAllUnder(p);
                Trees.deleteQuietly(p);
            }
        } catch (IOException ignored) {
            // nothing to clean
        }
    }
}
