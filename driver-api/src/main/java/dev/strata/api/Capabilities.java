package dev.strata.api;

/**
 * What a driver can promise beyond the base contract.
 *
 * @param nativeDiff diff and changes are read from the layer's own directory, not by comparing trees
 * @param quota      per-layer size limits work on this backing filesystem
 * @param idMaps     whether layers can be made with id maps here ({@link CreateOptions#idMaps}), and how the driver
 *                   shows them (idmapped mounts, a chown copy), or why not
 */
public record Capabilities(boolean nativeDiff, boolean quota, Support idMaps) {
    public Capabilities {
        if (idMaps == null) idMaps = Support.no("this driver cannot show layers under id maps");
    }

    public Capabilities(boolean nativeDiff, boolean quota) {
        this(nativeDiff, quota, null);
    }
}
