package dev.strata.kit;

import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A staged apply for a layer whose content is one directory (vfs's {@code dir/<id>}, an overlay or aufs diff dir),
 * made whole in a directory of the apply's own on the same filesystem ({@link LayerDirectories#applyDir}: the id's
 * {@code .apply-<id>}, 0700), which holds all it makes: {@value #STAGED}, a copy of the content that costs no data
 * ({@link TreeCopier.Method#LINK}: directories made, everything else hardlinked; for the usual empty layer, only the
 * root's metadata) into which the tar goes, and whatever a driver adds (overlay's work and mount dirs). Commit swaps
 * the copy and the content with {@code renameat2(RENAME_EXCHANGE)}. The apply only ever replaces names (layer-archive
 * creates every file anew, {@code O_EXCL}), so the layer's own inodes are never written.
 *
 * <p>Where the filesystem has no RENAME_EXCHANGE, commit renames the content aside ({@value #REPLACED}) and the copy
 * into place; {@link #discard(Path, Path)} puts the content back if a crash fell between the two. Everything of one
 * apply under one name means one read of the layers' directory finds it after a crash, and nothing of one id's apply
 * can be taken for another's: an id holds no '/'. (Side by side, {@code .apply-X.old}, X's content set aside, was
 * also where an apply of the layer {@code X.old} staged.)
 */
public final class DirectoryStaging implements StagedApply {
    /** In the apply's directory: the copy the tar goes into, and the content a commit without RENAME_EXCHANGE set aside. */
    static final String STAGED = "staged", REPLACED = "replaced";
    private static final java.nio.file.attribute.FileAttribute<?> PRIVATE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private final Path content;
    private final Path staged;
    private final ApplyOptions options;

    private DirectoryStaging(Path content, Path staged, ApplyOptions options) {
        this.content = content;
        this.staged = staged;
        this.options = options;
    }

    /**
     * Stages {@code content} in {@code applyDir} (a path on the same filesystem that nothing else uses; whatever an
     * earlier apply left there is dropped first).
     */
    public static DirectoryStaging stage(Path content, Path applyDir, ApplyOptions options) {
        return stage(content, applyDir, options, null);
    }

    /** As above; {@code prepare} (may be null) runs on the empty copy first, e.g. to set its quota. */
    public static DirectoryStaging stage(Path content, Path applyDir, ApplyOptions options, java.util.function.Consumer<Path> prepare) {
        discard(content, applyDir);
        Path staged = applyDir.resolve(STAGED);
        try {
            Files.createDirectory(applyDir, PRIVATE);
            Files.createDirectory(staged, PRIVATE);
            if (prepare != null) prepare.accept(staged);
            new TreeCopier(TreeCopier.Method.LINK).copy(content, staged);
        } catch (IOException | RuntimeException e) {
            Trees.deleteQuietly(applyDir);
            if (e instanceof RuntimeException r) throw r;
            throw new StorageException("applyDiff", staged.toString(), "cannot stage a copy of " + content + ": " + e, e);
        }
        return new DirectoryStaging(content, staged, options);
    }

    @Override
    public Path root() {
        return staged;
    }

    @Override
    public ApplyOptions options() {
        return options;
    }

    @Override
    public void commit() {
        try {
            PosixFiles.renameat2(null, staged.toString(), null, content.toString(), PosixFiles.RENAME_EXCHANGE);
        } catch (SyscallException e) {
            if (!(e.is(Errno.EINVAL) || e.is(Errno.ENOSYS) || e.is(Errno.EOPNOTSUPP))) throw e;
            Path old = staged.resolveSibling(REPLACED);
            PosixFiles.renameat2(null, content.toString(), null, old.toString(), PosixFiles.RENAME_NOREPLACE);
            try {
                PosixFiles.renameat2(null, staged.toString(), null, content.toString(), PosixFiles.RENAME_NOREPLACE);
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
        discard(content, staged.getParent());
    }

    /**
     * Drops the apply's directory {@code applyDir} that {@link #stage} made for {@code content}, after a crash too
     * (a driver unmounts first what it mounted in it). Never touches {@code content}, except to put it back from
     * {@value #REPLACED} when a crash fell between the two renames of a commit without RENAME_EXCHANGE (unless what
     * held it is gone too: overlay's {@code <id>/} removed by another tool, say, when there is no layer to put back).
     */
    public static void discard(Path content, Path applyDir) {
        if (!PosixFiles.lexists(applyDir)) return; // the usual case when a stage begins: one statx
        Path old = applyDir.resolve(REPLACED);
        if (PosixFiles.lexists(old) && !PosixFiles.lexists(content) && PosixFiles.lexists(content.getParent())) {
            PosixFiles.renameat2(null, old.toString(), null, content.toString(), PosixFiles.RENAME_NOREPLACE);
        }
        Trees.delete(applyDir);
    }
}
