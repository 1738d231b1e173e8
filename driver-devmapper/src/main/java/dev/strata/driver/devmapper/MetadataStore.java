package dev.strata.driver.devmapper;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.kit.AtomicFiles;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code <home>/metadata}: one JSON file per device, the device set's own file and the open transaction, each
 * written atomically (temp file, fsync, rename, fsync of the directory). Names follow moby's layout.
 */
final class MetadataStore {
    static final String DEVICE_SET = "deviceset-metadata", TRANSACTION = "transaction-metadata", BASE = "base";
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** moby's transaction-metadata: the transaction id the pool will have once the change is done, and the device. */
    record Transaction(@JsonProperty("open_transaction_id") long openTransactionId,
                       @JsonProperty("device_hash") String deviceHash,
                       @JsonProperty("device_id") int deviceId) {
    }

    /** moby's deviceset-metadata. */
    record DeviceSetMeta(@JsonProperty("next_device_id") int nextDeviceId,
                         @JsonProperty("BaseDeviceUUID") String baseDeviceUuid,
                         @JsonProperty("BaseDeviceFilesystem") String baseDeviceFilesystem) {
    }

    private final Path dir;

    MetadataStore(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /**
     * The file of a device: {@code base} for the base device, the layer id for a layer. moby lets a layer named
     * "base" clobber the base; here a layer whose id is one of the set's own file names gets a "_" in front
     * (no layer id starts with "_", so that cannot collide either).
     */
    static String fileName(String hash) {
        if (hash.isEmpty()) return BASE;
        return RESERVED.contains(hash) ? "_" + hash : hash;
    }

    static final java.util.Set<String> RESERVED = java.util.Set.of(BASE, DEVICE_SET, TRANSACTION);

    DevInfo read(String hash) {
        return read(dir.resolve(fileName(hash)), DevInfo.class);
    }

    void write(String hash, DevInfo info) {
        write(dir.resolve(fileName(hash)), info);
    }

    void delete(String hash) {
        try {
            if (Files.deleteIfExists(dir.resolve(fileName(hash)))) AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new StorageException("remove metadata", dir.resolve(fileName(hash)).toString(), e.toString(), e);
        }
    }

    /** Renames a device's record in one atomic step (the commit point of a create that grows its filesystem first). */
    void rename(String from, String to) {
        try {
            Files.move(dir.resolve(fileName(from)), dir.resolve(fileName(to)), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new StorageException("rename metadata", dir.resolve(fileName(from)).toString(), e.toString(), e);
        }
    }

    /** Every device hash with a file ("" for the base), as moby's loadDeviceFilesOnStart finds them. */
    List<String> hashes() {
        List<String> out = new ArrayList<>();
        try (var s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") || n.endsWith(".migrated") || n.equals(DEVICE_SET) || n.equals(TRANSACTION)) continue;
                if (!Files.isRegularFile(p)) continue;
                out.add(n.equals(BASE) ? "" : n.startsWith("_") ? n.substring(1) : n);
            }
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new StorageException("list metadata", dir.toString(), e.toString(), e);
        }
        return out;
    }

    Transaction readTransaction() {
        return read(dir.resolve(TRANSACTION), Transaction.class);
    }

    void writeTransaction(Transaction t) {
        write(dir.resolve(TRANSACTION), t);
    }

    void deleteTransaction() {
        try {
            Files.deleteIfExists(dir.resolve(TRANSACTION));
        } catch (IOException e) {
            throw new StorageException("remove", dir.resolve(TRANSACTION).toString(), e.toString(), e);
        }
    }

    DeviceSetMeta readDeviceSet() {
        return read(dir.resolve(DEVICE_SET), DeviceSetMeta.class);
    }

    void writeDeviceSet(DeviceSetMeta m) {
        write(dir.resolve(DEVICE_SET), m);
    }

    private static <T> T read(Path p, Class<T> type) {
        try {
            return JSON.readValue(Files.readAllBytes(p), type);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StorageException("read metadata", p.toString(), "devmapper: Error decoding metadata: " + e.getMessage(), e);
        }
    }

    private static void write(Path p, Object value) {
        try {
            AtomicFiles.write(p, JSON.writeValueAsBytes(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new StorageException("write metadata", p.toString(), "devmapper: Error encoding metadata to json: " + e.getMessage(), e);
        }
    }
}
