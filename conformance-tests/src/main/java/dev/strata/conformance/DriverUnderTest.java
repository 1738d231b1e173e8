package dev.strata.conformance;

import dev.strata.api.DriverProvider;
import dev.strata.api.StorageDriver;

import java.nio.file.Path;
import java.util.List;

/**
 * What every group of conformance cases gets from {@link ConformanceSuite}: the driver under test, opened fresh
 * for each test on its own directory of the suite's scratch tmpfs, and ways to open more instances.
 */
public interface DriverUnderTest {
    /** The driver under test, opened on {@code testRoot()/<name>} for this test alone. */
    StorageDriver driver();

    /** The provider's name, as selected ({@code vfs}, {@code overlay}, ...). */
    String driverName();

    /** The driver-wide options the suite opens it with. */
    List<String> driverOptions();

    /** This test's own directory on the scratch tmpfs, deleted after the test. */
    Path testRoot();

    /** A second instance of the driver under test on the same home, as after a restart. Closed after the test. */
    StorageDriver reopen();

    /** Another instance of the driver under test, same options, on another root (a loop-mounted xfs, say). */
    StorageDriver openAt(Path root);

    /**
     * Opens any registered driver with default options on {@code root} (its home is {@code root/<name>}); the
     * test is skipped with the provider's reason when that driver cannot run here. Closed after the test.
     */
    StorageDriver openOther(String name, Path root);

    /** The filesystem the driver under test needs (its tests' directories are on one), if any. */
    java.util.Optional<String> backingFilesystem();

    /** Every registered provider. */
    List<DriverProvider> providers();
}
