package dev.strata.driver.aufs;

import dev.strata.api.StorageException;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.Native;
import dev.strata.nativeio.StatFs;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** aufs mounts through mount(2): the union, its remount appends, unmount with a pseudo-link flush, dirperm1. */
final class AufsMounts {
    private static final Logger LOG = Logger.getLogger(AufsMounts.class.getName());
    private static final int UNMOUNT_RETRIES = 5;
    /** moby serialises its aufs mount(2) calls (mntL); the module's branch setup is not known to be reentrant. */
    private static final Object MOUNT_LOCK = new Object();

    private static final class H {
        static final MethodHandle GETPAGESIZE = Native.plainCall("getpagesize", FunctionDescriptor.of(JAVA_INT));
    }

    private final Path scratch;
    private volatile Boolean dirperm1;

    /** @param scratch a directory this driver owns, for the dirperm1 test mount */
    AufsMounts(Path scratch) {
        this.scratch = scratch;
    }

    static int pageSize() {
        try {
            return (int) H.GETPAGESIZE.invokeExact();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Whether an aufs is mounted at {@code path} (moby's FsChecker: the statfs magic). */
    static boolean isAufs(Path path) {
        try {
            return (StatFs.of(path).type() & 0xFFFFFFFFL) == StatFs.AUFS_MAGIC;
        } catch (SyscallException e) {
            return false;
        }
    }

    /**
     * Mounts the union of {@code rw} over {@code ro} (nearest parent first) at {@code target}. A failure part way
     * (a remount append refused) unmounts what was mounted, so the caller sees nothing or everything.
     */
    void mount(Path rw, List<Path> ro, Path target, String mountLabel) {
        BranchOptions.Plan plan = BranchOptions.plan(rw.toString(), ro.stream().map(Path::toString).toList(),
                mountLabel, dirperm1(), pageSize());
        synchronized (MOUNT_LOCK) {
            call(target, 0, plan.mount());
            try {
                for (String append : plan.remounts()) call(target, Mounts.MS_REMOUNT, append);
            } catch (RuntimeException e) {
                try {
                    Mounts.unmount(target, Mounts.MNT_DETACH);
                } catch (SyscallException u) {
                    e.addSuppressed(u);
                }
                throw e;
            }
        }
    }

    private static void call(Path target, long flags, String data) {
        try {
            Mounts.mount("none", target, "aufs", flags, data);
        } catch (SyscallException e) {
            String shown = data.length() <= 300 ? data : data.substring(0, 300) + "... (" + data.length() + " bytes)";
            throw new SyscallException("mount", target.toString(), e.errno(),
                    "aufs " + (flags == 0 ? "" : "MS_REMOUNT ") + "data " + shown
                            + (e.is(Errno.ENODEV) ? " (aufs is not in this kernel)" : ""));
        }
    }

    /**
     * Flushes the pseudo-links into the rw branch, then unmounts; EBUSY is retried 5 times, 100 ms apart (moby).
     * With {@code detachIfBusy} a mount still busy after that is detached instead of failing (remove, cleanup).
     */
    void unmount(Path target, Path rw, boolean detachIfBusy) {
        if (!isAufs(target)) return;
        try {
            PseudoLinks.flush(target, rw);
        } catch (RuntimeException e) {
            // moby logs a failed auplink and unmounts anyway; the copies stay in .wh..wh.plnk, nothing is lost.
            LOG.log(Level.WARNING, "aufs: flushing pseudo-links of " + target + " failed; unmounting anyway", e);
        }
        SyscallException last = null;
        for (int i = 0; i < UNMOUNT_RETRIES; i++) {
            try {
                Mounts.unmount(target, 0);
                return;
            } catch (SyscallException e) {
                if (e.is(Errno.EINVAL)) return; // no longer a mount point
                if (!e.is(Errno.EBUSY)) throw e;
                last = e;
                sleep(100);
            }
        }
        if (!detachIfBusy) throw last;
        Mounts.unmount(target, Mounts.MNT_DETACH);
    }

    /** Whether the module takes {@code dirperm1}: tried once with a throwaway mount, as moby does. */
    boolean dirperm1() {
        Boolean v = dirperm1;
        if (v == null) {
            synchronized (this) {
                v = dirperm1;
                if (v == null) dirperm1 = v = Kernel.hasFilesystem("aufs") && tryDirperm1();
            }
        }
        return v;
    }

    private boolean tryDirperm1() {
        Path dir = null;
        try {
            Files.createDirectories(scratch);
            dir = Files.createTempDirectory(scratch, "dirperm1-");
            Path base = Files.createDirectory(dir.resolve("base"));
            Path union = Files.createDirectory(dir.resolve("union"));
            synchronized (MOUNT_LOCK) {
                Mounts.mount("none", union, "aufs", 0, "br:" + base + ",dirperm1,xino=/dev/shm/aufs.xino");
            }
            Mounts.unmount(union, Mounts.MNT_DETACH);
            return true;
        } catch (SyscallException e) {
            return false;
        } catch (IOException e) {
            throw new StorageException("probe dirperm1", scratch, e.toString(), e);
        } finally {
            if (dir != null) AufsLayout.removeAll(dir);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("umount2", (String) null, "interrupted while waiting for a busy mount", e);
        }
    }
}
