package dev.strata.archive;

import dev.strata.api.StorageException;

/** A tar entry refused because applying it could write outside the layer, or is not permitted. */
public class UnsafeEntryException extends StorageException {
    private final String entry;

    public UnsafeEntryException(String layer, String entry, String why) {
        super("applyDiff", layer, "refused tar entry \"" + entry + "\": " + why);
        this.entry = entry;
    }

    public String entry() {
        return entry;
    }
}
