package dev.strata.api;

/** A layer id that is not one safe path component. */
public class InvalidLayerIdException extends StorageException {
    public InvalidLayerIdException(String operation, String id, String why) {
        super(operation, quote(id), "invalid layer id: " + why);
    }

    private static String quote(String id) {
        return id == null ? "(null)" : '"' + id.replace("\n", "\\n") + '"';
    }
}
