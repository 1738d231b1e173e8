package dev.strata.api;

/** The parent named for a new layer does not exist. */
public class ParentUnknownException extends StorageException {
    private final String parent;

    public ParentUnknownException(String operation, String id, String parent) {
        super(operation, id, "parent layer " + parent + " does not exist");
        this.parent = parent;
    }

    public String parent() {
        return parent;
    }
}
