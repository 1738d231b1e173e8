package dev.strata.api;

import java.nio.file.Path;

/** A storage driver: layers, mounts and diffs, behind one name. Found through {@link DriverProvider}. */
public interface StorageDriver extends LayerStore, DiffDriver, AutoCloseable {
    /** The driver's name, as given to {@code --storage-driver}. */
    String name();

    /** The directory this driver keeps its layers under ({@code <root>/<name>}). */
    Path home();

    Capabilities capabilities();

    /** Same as {@link #cleanup()}. */
    @Override
    default void close() {
        cleanup();
    }
}
