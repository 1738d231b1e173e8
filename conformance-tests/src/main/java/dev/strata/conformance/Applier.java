package dev.strata.conformance;

import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.Trees;
import dev.strata.nativeio.Xattrs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * A change to a directory tree, applied the same way to a mounted layer and to a plain "flat" directory (what
 * containerd's {@code fstest.Applier} is). Modes are set with chmod after creating, so the process umask and
 * special bits (setuid, sticky) cannot get in the way.
 */
@FunctionalInterface
public interface Applier {
    void apply(Path root) throws IOException;

    static Applier all(Applier... steps) {
        List<Applier> list = List.of(steps);
        return root -> {
            for (Applier a : list) a.apply(root);
        };
    }

    /** Writes (or overwrites) a file, then sets its mode, as fstest.CreateFile does. */
    static Applier createFile(String path, byte[] content, int mode) {
        return root -> {
            Path p = at(root, path);
            Files.write(p, content);
            chmod(p, mode);
        };
    }

    static Applier createFile(String path, String content, int mode) {
        return createFile(path, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    /** Makes a directory if it is missing, then sets its mode. */
    static Applier createDir(String path, int mode) {
        return root -> {
            Path p = at(root, path);
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(p);
            chmod(p, mode);
        };
    }

    /** Removes a path and everything under it; a missing path is fine (os.RemoveAll). */
    static Applier removeAll(String path) {
        return root -> {
            Path p = at(root, path);
            if (PosixFiles.lexists(p)) Trees.delete(p); // which wants the parent to exist
        };
    }

    /** lchown. */
    static Applier chown(String path, int uid, int gid) {
        return root -> PosixFiles.fchownat(null, at(root, path).toString(), uid, gid, PosixFiles.AT_SYMLINK_NOFOLLOW);
    }

    static Applier chmodPath(String path, int mode) {
        return root -> chmod(at(root, path), mode);
    }

    /** A hard link {@code newPath} to {@code oldPath}. */
    static Applier link(String oldPath, String newPath) {
        return root -> Files.createLink(at(root, newPath), at(root, oldPath));
    }

    static Applier symlink(String target, String path) {
        return root -> Files.createSymbolicLink(at(root, path), Path.of(target));
    }

    static Applier fifo(String path, int mode) {
        return root -> {
            Path p = at(root, path);
            PosixFiles.mknod(p, Stat.S_IFIFO | mode, 0);
            chmod(p, mode);
        };
    }

    static Applier xattr(String path, String name, byte[] value) {
        return root -> Xattrs.set(at(root, path), name, value);
    }

    /** Renames, replacing the target (rename(2)). */
    static Applier rename(String from, String to) {
        return root -> Files.move(at(root, from), at(root, to), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** {@code path} inside {@code root}; a leading slash is allowed, as fstest writes paths. */
    static Path at(Path root, String path) {
        String rel = path.startsWith("/") ? path.substring(1) : path;
        return rel.isEmpty() ? root : root.resolve(rel);
    }

    private static void chmod(Path p, int mode) {
        PosixFiles.fchmodat(null, p.toString(), mode, 0);
    }
}
