package dev.strata.api;

/**
 * One range of a user-namespace id map: {@code size} ids from {@code containerId} in the container are
 * {@code hostId...} on the host. The form of moby's {@code IDMap{ContainerID, HostID, Size}}, of containerd's
 * {@code 0:100000:65536} labels and of a {@code /proc/PID/uid_map} line. Ids are unsigned 32-bit numbers.
 */
public record IdMapping(long containerId, long hostId, long size) {
    static final long ID_LIMIT = 1L << 32;

    public IdMapping {
        if (containerId < 0 || hostId < 0 || size <= 0 || containerId + size > ID_LIMIT || hostId + size > ID_LIMIT) {
            throw new InvalidIdMapException(containerId + ":" + hostId + ":" + size,
                    "ids are 0 to 4294967295 and a range has at least one id");
        }
    }

    boolean coversContainer(long id) {
        return id >= containerId && id - containerId < size;
    }

    boolean coversHost(long id) {
        return id >= hostId && id - hostId < size;
    }

    @Override
    public String toString() {
        return containerId + ":" + hostId + ":" + size;
    }
}
