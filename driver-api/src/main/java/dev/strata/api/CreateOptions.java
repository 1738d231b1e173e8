package dev.strata.api;

import java.util.Map;

/**
 * Per-layer options of create/createReadWrite: the SELinux mount label, storage options such as {@code size=10G},
 * and the id maps of the user namespace the layer is for ({@link IdMaps}; {@link IdMaps#NONE} for none).
 */
public record CreateOptions(String mountLabel, Map<String, String> storageOpts, IdMaps idMaps) {
    public static final CreateOptions NONE = new CreateOptions(null, Map.of(), IdMaps.NONE);

    public CreateOptions {
        storageOpts = storageOpts == null ? Map.of() : Map.copyOf(storageOpts);
        if (idMaps == null) idMaps = IdMaps.NONE;
    }

    public CreateOptions(String mountLabel, Map<String, String> storageOpts) {
        this(mountLabel, storageOpts, IdMaps.NONE);
    }

    public static CreateOptions of(Map<String, String> storageOpts) {
        return new CreateOptions(null, storageOpts);
    }

    /** No label, no storage options, these id maps. */
    public static CreateOptions of(IdMaps idMaps) {
        return new CreateOptions(null, Map.of(), idMaps);
    }
}
