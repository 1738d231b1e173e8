package dev.strata.api;

import java.nio.file.Path;

/**
 * Base of every error a driver reports. It names the operation (create, get, applyDiff, mount(2), ...)
 * and the path or layer it concerns, so one line on stderr is enough to act on.
 */
public class StorageException extends RuntimeException {
    private final String operation;
    private final String subject;
    private final String detail;

    public StorageException(String operation, String subject, String message) {
        this(operation, subject, message, null);
    }

    public StorageException(String operation, String subject, String message, Throwable cause) {
        super(format(operation, subject, message), cause);
        this.operation = operation;
        this.subject = subject;
        this.detail = message;
    }

    public StorageException(String operation, Path path, String message, Throwable cause) {
        this(operation, path == null ? null : path.toString(), message, cause);
    }

    /** The operation that failed, e.g. {@code create} or {@code mount}. */
    public String operation() {
        return operation;
    }

    /** The layer id or path the operation was about; may be null. */
    public String subject() {
        return subject;
    }

    /** What went wrong, without the operation and subject in front. */
    public String detail() {
        return detail;
    }

    private static String format(String operation, String subject, String message) {
        StringBuilder b = new StringBuilder();
        if (operation != null) b.append(operation);
        if (subject != null && !subject.isEmpty()) b.append(b.isEmpty() ? "" : " ").append(subject);
        if (!b.isEmpty()) b.append(": ");
        return b.append(message).toString();
    }
}
