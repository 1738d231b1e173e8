package dev.strata.snapshotter;

import dev.strata.api.StorageException;

/**
 * A refusal with the meaning containerd's {@code errdefs} gives it; the gRPC layer turns the {@link Reason} into
 * the status code containerd maps back (NotFound, AlreadyExists, FailedPrecondition, InvalidArgument).
 */
public final class SnapshotException extends StorageException {
    public enum Reason { NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, INVALID_ARGUMENT }

    private final Reason reason;

    public SnapshotException(Reason reason, String operation, String subject, String message) {
        super(operation, subject, message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    static SnapshotException notFound(String op, String key) {
        return new SnapshotException(Reason.NOT_FOUND, op, key, "snapshot does not exist");
    }
}
