package dev.strata.api;

import java.util.Collection;

/** A driver name that no discovered provider answers to. The message lists the names that exist. */
public class UnknownDriverException extends StorageException {
    public UnknownDriverException(String name, Collection<String> known) {
        super("select driver", name, "unknown storage driver \"" + name + "\" (drivers: "
                + (known.isEmpty() ? "none found on the class path" : String.join(", ", known)) + ")");
    }
}
