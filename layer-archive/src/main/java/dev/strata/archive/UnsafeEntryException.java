package dev.strata.archive;

import dev.strata.api.StorageException;

/** A tar entry refused because applying it could write outside the layer, or is not permitted. */
public class UnsafeEntryException extends StorageException {
    private final String entry;

    public UnsafeEntryException(String layer, String entry, String why) {
        // a stream broken between entries has no entry to name: the reason says where it broke
        super("applyDiff", layer, entry.isEmpty() ? "not a valid tar stream: " + why : "refused tar entry \"" + entry + "\": " + why);
        this.entry = entry;
    }

    public String entry() {
        return entry;
    }
}
