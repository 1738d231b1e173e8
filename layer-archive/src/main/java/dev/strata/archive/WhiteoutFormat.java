package dev.strata.archive;

/**
 * How deletions and opaque directories are kept on disk in a layer directory. In a tar they are always OCI's:
 * {@code .wh.<name>} and {@code .wh..wh..opq}.
 */
public enum WhiteoutFormat {
    /** vfs and devmapper: a layer is a full tree, so a whiteout deletes in place (moby's UnpackLayer). */
    DELETE_IN_PLACE,
    /** overlay as root: a char device 0/0, and {@code trusted.overlay.opaque=y} on an opaque directory. */
    OVERLAY,
    /** overlay rootless ({@code userxattr}): a char device 0/0, and {@code user.overlay.opaque=y}. */
    OVERLAY_USERXATTR,
    /** aufs: the {@code .wh.} files are kept as they are. */
    AUFS
}
