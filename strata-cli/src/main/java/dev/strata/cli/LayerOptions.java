package dev.strata.cli;

import dev.strata.api.InvalidOptionException;
import dev.strata.api.StorageException;

import java.util.Set;

/**
 * Drivers speak of per-layer options in Docker's words ({@code --storage-opt}, moby's {@code docker run} flag);
 * on this command line they are {@code --layer-opt}, and {@code --storage-opt} is the driver-wide option.
 */
final class LayerOptions {
    private LayerOptions() {
    }

    /** {@code e} as the user of {@code --layer-opt} should read it; other errors unchanged. */
    static RuntimeException inCliWords(StorageException e, Set<String> keys) {
        String msg = e.getMessage();
        boolean aboutLayerOpt = e instanceof InvalidOptionException || msg.contains("--storage-opt")
                || keys.stream().anyMatch(k -> msg.contains("option " + k));
        if (!aboutLayerOpt || keys.isEmpty()) return e;
        String reason = ErrorText.cause(e, null, ErrorText.Paths.NONE)
                .replace("--storage-opt", "--layer-opt")
                .replace("unknown option ", "unknown --layer-opt ");
        return new InvalidLayerOption(reason, e);
    }

    /** A --layer-opt the driver refused: the user's input, so exit 2. */
    static final class InvalidLayerOption extends UsageException {
        InvalidLayerOption(String reason, Throwable cause) {
            super(reason);
            initCause(cause);
        }
    }
}
