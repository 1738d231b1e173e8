package dev.strata.archive;

import dev.strata.api.Change;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The one place layer tar streams are written and read. CONTRACT ONLY until the layer-archive issue lands:
 * every method documents what it must do.
 */
public final class LayerArchive {
    private LayerArchive() {
    }

    /**
     * Writes a PAX tar of the whole tree under {@code root} (entries relative, directories with a trailing
     * slash, deterministic order), keeping type, mode incl. setuid/setgid/sticky, uid/gid, mtime in ns, xattrs
     * byte-exact, hardlinks as links, sparse holes.
     */
    public static void writeTree(Path root, OutputStream out) {
        throw new UnsupportedOperationException("layer-archive: writeTree not implemented yet");
    }

    /**
     * Writes a tar of {@code changes} (as {@link TreeChanges#between} reports them) taken from {@code layerRoot}:
     * added and modified paths as entries, deleted ones as {@code .wh.<name>} (moby's ExportChanges).
     */
    public static void writeChanges(Path layerRoot, List<Change> changes, OutputStream out) {
        throw new UnsupportedOperationException("layer-archive: writeChanges not implemented yet");
    }

    /**
     * Writes a tar of an overlay or aufs upper directory as it is, turning its on-disk whiteouts
     * ({@code onDisk}) into OCI ones; {@code lowers} (uppermost first) decide whether an opaque marker is needed.
     */
    public static void writeUpper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowers, OutputStream out) {
        throw new UnsupportedOperationException("layer-archive: writeUpper not implemented yet");
    }

    /** A tar stream of {@link #writeTree}, produced as it is read; closing it stops the producer. */
    public static InputStream tree(Path root) {
        throw new UnsupportedOperationException("layer-archive: tree not implemented yet");
    }

    /**
     * Applies a tar (plain, gzip or zstd, detected by magic bytes) into {@code layerRoot}, writing whiteouts in
     * {@code options.whiteouts()}.
     *
     * <p>Safety: every path is resolved beneath the layer root by the kernel (openat2 {@code RESOLVE_IN_ROOT} for
     * parents, {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS} for whiteouts); the final component is never followed.
     * Refused, with an {@link UnsafeEntryException} naming the entry: empty and absolute names, {@code ..}
     * components, components over 255 bytes, relative symlink targets that climb above the root (absolute ones
     * are kept: they mean the container's root), hardlink targets that break the name rules or are missing,
     * whiteouts whose parent is or passes a symlink, device nodes unless {@code options.allowDevices()},
     * {@code trusted.overlay.*}/{@code user.overlay.*} xattrs, malformed headers. Nothing outside the layer changes;
     * what was applied before a refusal stays (the driver marks the layer incomplete).
     *
     * <p>Metadata: owner (fchown), then mode (chown clears setuid), then xattrs byte-exact (chown clears
     * security.capability), then mtime in ns; directory mtimes are restored after their contents. Sparse entries keep
     * their holes. aufs metadata entries ({@code .wh..wh.plnk} etc.) are skipped, as moby does.
     *
     * @return the sum of the regular entries' sizes (for a sparse file its logical size), as moby's ApplyLayer
     *         returns it
     */
    public static long apply(Path layerRoot, InputStream tar, ApplyOptions options) {
        java.util.Objects.requireNonNull(options, "options");
        try (Applier a = new Applier(layerRoot, options)) {
            return a.apply(Decompress.detect(tar));
        }
    }
}
