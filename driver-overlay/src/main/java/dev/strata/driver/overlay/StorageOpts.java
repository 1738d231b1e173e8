package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.Sizes;

import java.util.Locale;
import java.util.Map;

/**
 * Per-layer storage options ({@code --storage-opt}): {@code size} and {@code inodes}, for read-write layers only,
 * as in moby's overlay2 and containers/storage's overlay.
 */
record StorageOpts(long size, long inodes) {
    static final StorageOpts NONE = new StorageOpts(0, 0);

    static StorageOpts parse(String op, String id, CreateOptions opts, boolean readWrite) {
        if (opts == null || opts.storageOpts().isEmpty()) return NONE;
        long size = 0, inodes = 0;
        for (Map.Entry<String, String> e : opts.storageOpts().entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            switch (key) {
                case "size", "inodes" -> {
                    if (!readWrite) {
                        throw new InvalidOptionException(OverlayProvider.NAME, key,
                                "--storage-opt " + key + " is only supported for ReadWrite Layers (layer " + id + ")");
                    }
                    try {
                        if (key.equals("size")) size = Sizes.parse(e.getValue());
                        else inodes = Long.parseLong(e.getValue().trim());
                    } catch (IllegalArgumentException x) {
                        throw new InvalidOptionException(OverlayProvider.NAME, key, "invalid --storage-opt " + key + " for " + id + ": " + x.getMessage());
                    }
                    if (inodes < 0) throw new InvalidOptionException(OverlayProvider.NAME, key, "--storage-opt inodes must not be negative");
                }
                default -> throw new InvalidOptionException(OverlayProvider.NAME, key,
                        "unknown --storage-opt " + key + " for " + op + " (valid keys: size, inodes)");
            }
        }
        return new StorageOpts(size, inodes);
    }

    /** Fills what the layer did not ask for from the driver-wide defaults. */
    StorageOpts withDefaults(long defaultSize, long defaultInodes) {
        return new StorageOpts(size > 0 ? size : defaultSize, inodes > 0 ? inodes : defaultInodes);
    }

    boolean any() {
        return size > 0 || inodes > 0;
    }
}
