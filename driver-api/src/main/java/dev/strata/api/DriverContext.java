package dev.strata.api;

import java.nio.file.Path;

/**
 * What a driver is opened with.
 *
 * @param home    the driver's own directory, {@code <root>/<driver name>}; created by the driver if missing
 * @param options driver-wide options, already checked against {@link DriverProvider#options()}
 */
public record DriverContext(Path home, DriverOptions options) {
}
