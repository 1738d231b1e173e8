package dev.strata.api;

/** The driver, or one of its features, cannot work here; {@link #reason()} says why. */
public class NotSupportedException extends StorageException {
    private final String reason;

    public NotSupportedException(String operation, String subject, String reason) {
        super(operation, subject, "not supported: " + reason);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
