package dev.strata.api;

/** A layer with this id already exists. */
public class LayerExistsException extends StorageException {
    public LayerExistsException(String operation, String id) {
        super(operation, id, "layer already exists");
    }
}
