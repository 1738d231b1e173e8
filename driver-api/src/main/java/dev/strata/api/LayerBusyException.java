package dev.strata.api;

/** The layer is in use in a way that forbids the operation: it has children, or is held by someone else. */
public class LayerBusyException extends StorageException {
    public LayerBusyException(String operation, String id, String why) {
        super(operation, id, why);
    }
}
