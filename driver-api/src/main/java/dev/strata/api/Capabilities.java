package dev.strata.api;

/**
 * What a driver can promise beyond the base contract.
 *
 * @param nativeDiff diff and changes are read from the layer's own directory, not by comparing trees
 * @param quota      per-layer size limits work on this backing filesystem
 */
public record Capabilities(boolean nativeDiff, boolean quota) {
}
