package dev.strata.driver.devmapper;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One thin device's record, {@code metadata/<id>} ({@code metadata/base} for the base device), in moby's JSON
 * shape so that either can read the other's: {@code {"device_id","size","transaction_id","initialized","deleted"}}
 * plus Strata's {@code "parent"} (moby ignores unknown keys).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record DevInfo(@JsonProperty("device_id") int deviceId,
               @JsonProperty("size") long size,
               @JsonProperty("transaction_id") long transactionId,
               @JsonProperty("initialized") boolean initialized,
               @JsonProperty("deleted") boolean deleted,
               @JsonProperty("parent") String parent) {
    DevInfo withInitialized(boolean v) {
        return new DevInfo(deviceId, size, transactionId, v, deleted, parent);
    }

    DevInfo withDeleted(boolean v) {
        return new DevInfo(deviceId, size, transactionId, initialized, v, parent);
    }

    DevInfo withDeviceId(int v) {
        return new DevInfo(v, size, transactionId, initialized, deleted, parent);
    }

    DevInfo withSize(long v) {
        return new DevInfo(deviceId, v, transactionId, initialized, deleted, parent);
    }
}
