package dev.strata.kit;

import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A staged apply for a layer whose content is one directory (vfs's {@code dir/<id>}, an overlay or aufs diff dir):
 * a sibling directory on the same filesystem gets a copy of the content that costs no data ({@link TreeCopier.Method#LINK}:
 * directories made, everything else hardlinked; for the usual empty layer, only the root's metadata), the tar goes
 * there, and commit swaps the two with {@code renameat2(RENAME_EXCHANGE)}. The apply only ever replaces names
 * (layer-archive creates every file anew, {@code O_EXCL}), so the layer's own inodes are never written.
 *
 * <p>Where the filesystem has no RENAME_EXCHANGE, commit renames the content aside ({@code <staging>.old}) and the
 * staging into place; {@link #discard(Path, Path)} puts the old content back if a crash fell between the two.
 */
public final class DirectoryStaging implements StagedApply {
    private final Path content;
    private final Path staging;
    private final ApplyOptions options;

    private DirectoryStaging(Path content, Path staging, ApplyOptions options) {
        this.content = content;
        this.staging = staging;
        this.options = options;
    }

    /**
     * Stages {@code content} at {@code staging} (a path on the same filesystem that nothing else uses; whatever an
     * earlier attempt left there is dropped first).
     */
    public static DirectoryStaging stage(Path content, Path staging, ApplyOptions options) {
        return stage(content, staging, options, null);
    }

    /** As above; {@code prepare} (may be null) runs on the empty staging directory first, e.g. to set its quota. */
    public static DirectoryStaging stage(Path content, Path staging, ApplyOptions options, java.util.function.Consumer<Path> prepare) {
        discard(content, staging);
        try {
            Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if (prepare != null) prepare.accept(staging);
            new TreeCopier(TreeCopier.Method.LINK).copy(content, staging);
        } catch (IOException | RuntimeException e) {
            Trees.deleteQuietly(staging);
            if (e instanceof RuntimeException r) throw r;
            throw new StorageException("applyDiff", staging.toString(), "cannot stage a copy of " + content + ": " + e, e);
        }
        return new DirectoryStaging(content, staging, options);
    }

    @Override
    public Path root() {
        return staging;
    }

    @Override
    public ApplyOptions options() {
        return options;
    }

    @Override
    public void commit() {
        try {
            PosixFiles.renameat2(null, staging.toString(), null, content.toString(), PosixFiles.RENAME_EXCHANGE);
        } catch (SyscallException e) {
            if (!(e.is(Errno.EINVAL) || e.is(Errno.ENOSYS) || e.is(Errno.EOPNOTSUPP))) throw e;
            Path old = old(staging);
            PosixFiles.renameat2(null, content.toString(), null, old.toString(), PosixFiles.RENAME_NOREPLACE);
            try {
                PosixFiles.renameat2(null, staging.toString(), null, content.toString(), PosixFiles.RENAME_NOREPLACE);
            } catch (RuntimeException second) {
                try {
                    PosixFiles.renameat2(null, old.toString(), null, content.toString(), PosixFiles.RENAME_NOREPLACE);
                } catch (RuntimeException back) {
                    second.addSuppressed(back);
                }
                throw second;
            }
        }
    }

    @Override
    public void discard() {
        discard(content, staging);
    }

    /**
     * Drops what {@link #stage} left at {@code staging} for {@code content}, after a crash too. Never touches
     * {@code content}, except to put it back from {@code <staging>.old} when a crash fell between the two renames
     * of a commit without RENAME_EXCHANGE.
     */
    public static void discard(Path content, Path staging) {
        Path old = old(staging);
        if (Files.exists(old, LinkOption.NOFOLLOW_LINKS) && !Files.exists(content, LinkOption.NOFOLLOW_LINKS)) {
            PosixFiles.renameat2(null, old.toString(), null, content.toString(), PosixFiles.RENAME_NOREPLACE);
        }
        for (Path p : new Path[]{staging, old}) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) Trees.delete(p); // a mounted staging unmounts itself first
        }
    }

    private static Path old(Path staging) {
        return staging.resolveSibling(staging.getFileName() + ".old");
    }
}
