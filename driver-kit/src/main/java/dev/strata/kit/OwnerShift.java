package dev.strata.kit;

import dev.strata.api.IdTranslation;
import dev.strata.api.StorageException;
import dev.strata.nativeio.FileConstants;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Xattrs;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;

/**
 * moby's chown copy done in place, on a private copy that already holds the data (a thin snapshot): every owner
 * under a root shifted by an {@link IdTranslation}, for a driver whose filesystem this kernel cannot idmap. A chown
 * clears setuid, setgid and {@code security.capability}: the mode is set again after it, and the capability
 * written back. Symlinks are chowned themselves, never followed.
 */
public final class OwnerShift {
    private static final String CAPABILITY = "security.capability";

    private OwnerShift() {
    }

    /** Shifts every owner under {@code root}, the root included. Returns how many entries were changed. */
    public static long shift(Path root, IdTranslation ids) {
        if (ids.isIdentity()) return 0;
        long[] changed = {0};
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    changed[0] += one(dir, ids);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    changed[0] += one(file, ids);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new StorageException("chown", root, e.toString(), e);
        }
        return changed[0];
    }

    private static int one(Path p, IdTranslation ids) {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(p, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new StorageException("chown", p, e.toString(), e);
        }
        int uid = (Integer) a.get("uid"), gid = (Integer) a.get("gid"), mode = (Integer) a.get("mode");
        int toUid = ids.uid(uid), toGid = ids.gid(gid);
        if (toUid == uid && toGid == gid) return 0;
        boolean regular = (mode & FileConstants.S_IFMT) == FileConstants.S_IFREG;
        byte[] cap = regular ? Xattrs.get(p, CAPABILITY) : null;
        PosixFiles.fchownat(null, p.toString(), toUid, toGid, FileConstants.AT_SYMLINK_NOFOLLOW);
        if ((mode & FileConstants.S_IFMT) != FileConstants.S_IFLNK && (mode & 06000) != 0) {
            PosixFiles.fchmodat(null, p.toString(), mode & 07777, 0);
        }
        if (cap != null) Xattrs.set(p, CAPABILITY, cap);
        return 1;
    }
}
