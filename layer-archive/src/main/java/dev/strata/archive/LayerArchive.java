package dev.strata.archive;

import dev.strata.api.IdTranslation;

import dev.strata.api.Change;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The one place layer tar streams are written and read: diff out ({@link #writeTree}, {@link #writeChanges},
 * {@link #writeUpper}, {@link #tree}) and apply in ({@link #apply}).
 */
public final class LayerArchive {
    private LayerArchive() {
    }

    /**
     * Writes a PAX tar of the whole tree under {@code root}: the root itself as {@code ./}, then every entry relative
     * to it (directories with a trailing slash) in a deterministic order (each directory's names sorted by their
     * bytes, parents first). Kept exactly: type; mode incl. setuid/setgid/sticky; uid/gid (any 32-bit value); mtime
     * in ns; xattrs byte-exact (except overlayfs' own {@code trusted.overlay.*}/{@code user.overlay.*}); hardlinks as
     * tar links to the first path seen; symlinks; char/block devices; fifos; sparse files as GNU PAX 1.0 sparse
     * entries holding only their data. Sockets are skipped, as moby does. A PAX header is written only for an entry
     * that needs one (a sub-second mtime, xattrs, long names, large ids or sizes, sparse data).
     */
    public static void writeTree(Path root, OutputStream out) {
        writeTree(root, IdTranslation.NONE, out);
    }

    /** {@link #writeTree}, with each owner translated by {@code ids} (a layer made with id maps: to container ids). */
    public static void writeTree(Path root, IdTranslation ids, OutputStream out) {
        try (TreeWriter w = new TreeWriter(out, ids)) {
            w.tree(root);
        }
    }

    /**
     * Writes a tar of {@code changes} (as {@link TreeChanges#between} reports them) taken from {@code layerRoot}:
     * added and modified paths as entries (a directory by itself, not its content), deleted ones as
     * {@code .wh.<name>} (moby's ExportChanges), in path order. Change paths are text; they are taken as UTF-8 names.
     */
    public static void writeChanges(Path layerRoot, List<Change> changes, OutputStream out) {
        writeChanges(layerRoot, IdTranslation.NONE, changes, out);
    }

    /** {@link #writeChanges}, with each owner translated by {@code ids}. */
    public static void writeChanges(Path layerRoot, IdTranslation ids, List<Change> changes, OutputStream out) {
        try (TreeWriter w = new TreeWriter(out, ids)) {
            w.changes(layerRoot, changes);
        }
    }

    /**
     * Writes a tar of an overlay or aufs upper directory as it is, turning its on-disk whiteouts ({@code onDisk})
     * into OCI ones: overlay's char 0/0 becomes {@code .wh.<name>}, an opaque xattr ({@code trusted.overlay.opaque}
     * or, for {@link WhiteoutFormat#OVERLAY_USERXATTR}, {@code user.overlay.opaque}) becomes
     * {@code <dir>/.wh..wh..opq}; aufs's {@code .wh.} files are kept and its metadata ({@code .wh..wh.plnk},
     * {@code .wh..wh.aufs}, {@code .wh..wh.orph}) is never written. {@code lowers} (uppermost first) decide whether
     * an opaque marker is needed: it is written only when some lower has a directory at that path; {@code null}
     * means unknown, and the marker is always written.
     */
    public static void writeUpper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowers, OutputStream out) {
        writeUpper(upperDir, onDisk, lowers, IdTranslation.NONE, out);
    }

    /** {@link #writeUpper}, with each owner translated by {@code ids}. */
    public static void writeUpper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowers, IdTranslation ids, OutputStream out) {
        try (TreeWriter w = new TreeWriter(out, ids)) {
            w.upper(upperDir, onDisk, lowers);
        }
    }

    /**
     * A tar stream of {@link #writeTree}, produced by a thread as it is read. Closing the stream early stops the
     * producer and waits for it, so the tree is no longer being read when close returns.
     */
    public static InputStream tree(Path root) {
        return stream("strata-tar " + root, out -> writeTree(root, out), null);
    }

    /**
     * A tar stream of {@link #writeUpper}, produced by a thread as it is read, for a driver's native diff.
     * {@code onClose} (may be null) runs once the producer has stopped, e.g. to release what the driver holds.
     */
    public static InputStream upper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowers, Runnable onClose) {
        return upper(upperDir, onDisk, lowers, IdTranslation.NONE, onClose);
    }

    /** {@link #upper}, with each owner translated by {@code ids}. */
    public static InputStream upper(Path upperDir, WhiteoutFormat onDisk, List<Path> lowers, IdTranslation ids, Runnable onClose) {
        return stream("strata-tar " + upperDir, out -> writeUpper(upperDir, onDisk, lowers, ids, out), onClose);
    }

    /** A tar produced by {@code body} on its own thread; {@code onClose} runs once the producer has stopped. */
    static InputStream stream(String name, java.util.function.Consumer<OutputStream> body, Runnable onClose) {
        return new ProducerStream(name, body, onClose);
    }

    /**
     * Applies a tar (plain, gzip or zstd, detected by magic bytes) into {@code layerRoot}, writing whiteouts in
     * {@code options.whiteouts()}.
     *
     * <p>Semantics are containerd's {@code archive.Apply} and moby's chrooted {@code ApplyLayer}: a name loses a
     * leading {@code /} and is cleaned lexically ({@code a/x/../c} is {@code a/c}); symlink targets are data, created
     * verbatim whatever they point at; paths through symlinks (of entries, hardlink targets and whiteouts) resolve in
     * the layer as if it were {@code /}. Every path is resolved beneath the layer root by the kernel (openat2
     * {@code RESOLVE_IN_ROOT}); the final component is never followed, so nothing outside the layer changes.
     * Refused, with an {@link UnsafeEntryException} naming the entry: empty names and names that climb above the
     * root ({@code ../x}), components over 255 bytes, the root replaced by a non-directory, symlinks with an empty
     * target, hardlink targets that are missing or directories, whiteouts of {@code .}, {@code ..} or an empty name,
     * device nodes unless {@code options.allowDevices()}, unknown entry types, and what Go's {@code archive/tar}
     * rejects as malformed. overlayfs' own xattrs ({@code trusted.overlay.*}, {@code user.overlay.*}) are dropped.
     * What was applied before a refusal stays in {@code layerRoot}: the driver kit applies into a staged copy and
     * drops it.
     *
     * <p>An existing non-directory is never written into, only replaced (unlinked, then made anew with
     * {@code O_EXCL}); an existing directory gets its metadata set. The kit's staged copy relies on this: it shares
     * the layer's files through hardlinks ({@code DirectoryStaging}), and its tests check it.
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
        try (TarApplier a = new TarApplier(layerRoot, options)) {
            // a plain tar file: read it through its channel, so large file data can be copied in the kernel
            java.nio.channels.FileChannel ch = tar instanceof java.io.FileInputStream f ? Decompress.plainFile(f) : null;
            return ch != null ? a.apply(new dev.strata.archive.tar.TarReader(ch)) : a.apply(Decompress.detect(tar));
        }
    }
}
