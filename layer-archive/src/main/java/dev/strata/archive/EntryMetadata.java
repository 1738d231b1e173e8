package dev.strata.archive;

import dev.strata.nativeio.fast.Sys;
import dev.strata.archive.tar.TarHeader;

import java.util.Map;

import static dev.strata.nativeio.fast.Sys.*;

/**
 * Owner, mode and xattrs of a file apply made, in that order: chown clears setuid/setgid and
 * {@code security.capability}, and creation masked the mode with the umask. By fd where there is one, else by name
 * under its directory without following it.
 */
final class EntryMetadata {
    private final Sys sys;
    private final Beneath.Errors errors;
    private final boolean root;
    private final int euid, egid, umask;

    EntryMetadata(Sys sys, Beneath.Errors errors, int euid, int egid, int umask) {
        this.sys = sys;
        this.errors = errors;
        this.euid = euid;
        this.egid = egid;
        this.root = euid == 0;
        this.umask = umask;
    }

    void ownership(TarHeader h, int fd, int dirfd, String name) {
        if (!root && h.uid == euid && h.gid == egid) return;
        int e = fd >= 0 ? sys.fchown(fd, h.uid, h.gid) : sys.lchownat(dirfd, name, h.uid, h.gid);
        if (e == -EPERM && !root) return; // without root, files stay ours (GNU tar without --same-owner does the same)
        if (e < 0) throw errors.failed(fd >= 0 ? "fchown" : "fchownat", name == null ? h.displayName() : name, e);
    }

    /** chmod after chown: chown clears setuid/setgid, and creation masked the mode with the umask. */
    void mode(TarHeader h, int fd, int dirfd, String name) {
        int perm = h.mode & 07777;
        if ((perm & 07000) == 0 && (perm & umask) == 0) return;
        int e = fd >= 0 ? sys.fchmod(fd, perm) : sys.fchmodat(dirfd, name, perm);
        if (e < 0) throw errors.failed("fchmod", name == null ? h.displayName() : name, e);
    }

    /** chmod whatever the mode is now: for a directory that existed before the entry (merged, not made). */
    void exactMode(TarHeader h, int fd) {
        int e = sys.fchmod(fd, h.mode & 07777);
        if (e < 0) throw errors.failed("fchmod", h.displayName(), e);
    }

    /** xattrs last: chown clears security.capability. */
    void xattrs(TarHeader h, int fd, int dirfd, String name) {
        for (Map.Entry<String, byte[]> x : h.xattrs.entrySet()) {
            int e = fd >= 0 ? sys.xattr.fset(fd, x.getKey(), x.getValue()) : sys.xattr.lsetAt(dirfd, name, x.getKey(), x.getValue());
            if (e == -EOPNOTSUPP) continue; // the filesystem has no such namespace (moby ignores this too)
            if (e == -EPERM && fd < 0 && x.getKey().startsWith("user.")) continue; // user.* is not allowed on symlinks/devices
            if (e < 0) throw errors.failed("setxattr " + x.getKey(), name == null ? h.displayName() : name, e);
        }
    }
}
