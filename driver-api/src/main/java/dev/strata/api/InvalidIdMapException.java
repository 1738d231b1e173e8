package dev.strata.api;

/** A uid or gid map that is malformed, overlaps itself or leaves the container's root unmapped. */
public class InvalidIdMapException extends StorageException {
    public InvalidIdMapException(String map, String why) {
        super("id map", map, why);
    }
}
