package dev.strata.api;

/** One ordered key/value pair of {@link StorageDriver#status()}, as in {@code docker info}. */
public record StatusEntry(String key, String value) {
    public StatusEntry {
        if (key == null || value == null) throw new IllegalArgumentException("status key and value must be set");
    }
}
