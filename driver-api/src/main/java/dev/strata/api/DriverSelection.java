package dev.strata.api;

import java.util.List;

/**
 * The outcome of {@link DriverRegistry#select}: the driver, where the choice came from, and every driver passed
 * over on the way with its reason.
 */
public record DriverSelection(DriverProvider provider, Source source, String detail, List<PassedOver> passedOver) {
    /** Where the choice came from, in precedence order. */
    public enum Source {
        FLAG("--storage-driver"),
        ENVIRONMENT(DriverRegistry.ENV_VAR),
        CONFIG_FILE("config file"),
        PRIOR_DATA("data already under the root"),
        AUTO("highest-priority supported driver");

        private final String label;

        Source(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A driver auto-pick did not take, and why. */
    public record PassedOver(String name, String reason) {
    }

    public DriverSelection {
        passedOver = List.copyOf(passedOver);
    }
}
