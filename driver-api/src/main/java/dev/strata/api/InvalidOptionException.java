package dev.strata.api;

import java.util.Collection;

/** A {@code key=value} option that is unknown or malformed. The message names the key and the valid keys. */
public class InvalidOptionException extends StorageException {
    private final String key;

    public InvalidOptionException(String driver, String key, String why) {
        super("option", driver, why);
        this.key = key;
    }

    public static InvalidOptionException unknown(String driver, String key, Collection<String> valid) {
        String list = valid.isEmpty() ? "this driver takes no options" : "valid keys: " + String.join(", ", valid);
        return new InvalidOptionException(driver, key, "unknown option " + key + " (" + list + ")");
    }

    public String key() {
        return key;
    }
}
