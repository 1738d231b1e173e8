package dev.strata.api;

import java.util.List;
import java.util.Optional;

/**
 * Optional for a {@link StorageDriver}: a layer's root described as mounts that another process makes itself, as
 * containerd does with a snapshotter's answer to {@code Mounts}. A driver implements it when one mount of paths
 * (or a device) it already has yields the layer's root; a driver that must mount to reach the root (devmapper
 * keeps it in a subdirectory of the device's filesystem) does not, and callers use {@link LayerStore#get} instead.
 * Describing a mount takes no reference and mounts nothing.
 */
public interface MountSpecs {
    /**
     * The mounts that, made in order on one target, give what {@link LayerStore#get} would: read-write, the layer
     * itself; {@code readOnly}, the layer's content as a read-only tree (what a child would see below it).
     */
    List<MountSpec> mountSpecs(String id, boolean readOnly);

    /** One mount as containerd's {@code Mount}: fstab-style {@code options}, flags and data alike. */
    record MountSpec(String type, String source, List<String> options) {
        public MountSpec {
            options = List.copyOf(options);
        }
    }

    /** The driver's mount specs, if it offers them. */
    static Optional<MountSpecs> of(StorageDriver driver) {
        return driver instanceof MountSpecs m ? Optional.of(m) : Optional.empty();
    }
}
