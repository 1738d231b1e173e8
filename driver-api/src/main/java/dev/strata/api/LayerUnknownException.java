package dev.strata.api;

/** No layer with this id exists in the driver. */
public class LayerUnknownException extends StorageException {
    public LayerUnknownException(String operation, String id) {
        super(operation, id, "layer does not exist");
    }
}
