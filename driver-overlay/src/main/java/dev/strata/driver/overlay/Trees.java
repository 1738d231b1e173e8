package dev.strata.driver.overlay;

import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/** Whole-tree operations on layer directories: removing one, and moby's directory.Size. */
final class Trees {
    private Trees() {
    }

    /**
     * Deletes {@code root} and everything below it without following symlinks and without crossing into another
     * filesystem: a mount left below (which the driver unmounts before) is refused rather than emptied.
     */
    static void delete(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try {
            Object rootDev = Files.getAttribute(root, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    Object dev = Files.getAttribute(dir, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    if (!dev.equals(rootDev)) throw new IOException(dir + " is a mount point; refusing to delete into it");
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                    if (exc instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                    throw exc;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    if (exc != null) throw exc;
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw new StorageException("remove", root.toString(), e.toString(), e);
        }
    }

    static void deleteQuietly(Path root) {
        try {
            delete(root);
        } catch (RuntimeException ignored) {
            // best effort: a leftover scratch directory is removed again at the next open
        }
    }

    /**
     * moby's directory.Size: the sizes of everything but directories, each inode once (hard links), symlinks
     * counting their target's length.
     */
    static long size(Path root) {
        Set<Object> seen = new HashSet<>();
        long[] total = {0};
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    long s = attrs.size();
                    if (attrs.isDirectory() || s == 0) return FileVisitResult.CONTINUE;
                    Object key = attrs.fileKey();
                    if (key == null || seen.add(key)) total[0] += s;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                    if (exc instanceof NoSuchFileException && !file.equals(root)) return FileVisitResult.CONTINUE;
                    throw exc;
                }
            });
        } catch (IOException e) {
            throw new StorageException("size", root.toString(), e.toString(), e);
        }
        return total[0];
    }
}
