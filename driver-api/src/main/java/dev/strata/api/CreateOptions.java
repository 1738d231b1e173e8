package dev.strata.api;

import java.util.Map;

/**
 * Per-layer options of create/createReadWrite: the SELinux mount label and storage options such as
 * {@code size=10G}.
 */
public record CreateOptions(String mountLabel, Map<String, String> storageOpts) {
    public static final CreateOptions NONE = new CreateOptions(null, Map.of());

    public CreateOptions {
        storageOpts = storageOpts == null ? Map.of() : Map.copyOf(storageOpts);
    }

    public static CreateOptions of(Map<String, String> storageOpts) {
        return new CreateOptions(null, storageOpts);
    }
}
