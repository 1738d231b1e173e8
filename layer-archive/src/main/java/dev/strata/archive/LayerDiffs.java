package dev.strata.archive;

import dev.strata.api.Change;

import java.io.InputStream;
import java.util.List;

/**
 * Reading what a layer changed: the read half of {@link dev.strata.api.DiffDriver}. Applying is not here, since a
 * driver kit applies through a staged copy of the layer. {@link NaiveDiff} compares trees; {@link UpperDiff} reads an
 * upper dir natively when the parent asked for is the layer's own.
 */
public interface LayerDiffs {
    /** A tar of what {@code id} changed relative to {@code parent} (null: the whole layer), OCI whiteouts. */
    InputStream diff(String id, String parent);

    /** Paths added, modified or deleted, sorted by path. */
    List<Change> changes(String id, String parent);

    /** The size in bytes of what {@code id} changed relative to {@code parent}. */
    long diffSize(String id, String parent);
}
