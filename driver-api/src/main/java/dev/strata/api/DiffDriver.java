package dev.strata.api;

import java.io.InputStream;
import java.util.List;

/** Moving layers in and out as tar streams: the half of the contract that moby calls DiffDriver. */
public interface DiffDriver {
    /**
     * A tar of what {@code id} changed relative to {@code parent} (the whole layer when parent is null), with OCI
     * whiteouts. Closing the stream releases whatever the driver mounted for it.
     */
    InputStream diff(String id, String parent);

    /** Paths added, modified or deleted in {@code id} relative to {@code parent}, sorted by path. */
    List<Change> changes(String id, String parent);

    /**
     * Applies a tar diff (plain, gzip or zstd) to {@code id}, whose parent is {@code parent}, all or nothing: on
     * any failure (a bad or truncated stream, an unsupported compression, a full disk, an interrupt, a kill) the
     * layer is exactly as it was, and the error's message ends with {@code layer <id> unchanged}. A layer with
     * children, or one that is mounted, is refused ({@link LayerBusyException}). Returns the size that
     * {@link #diffSize} reports for the same layer afterwards.
     */
    long applyDiff(String id, String parent, InputStream diff);

    /** The size in bytes of what {@code id} changed relative to {@code parent}. */
    long diffSize(String id, String parent);
}
