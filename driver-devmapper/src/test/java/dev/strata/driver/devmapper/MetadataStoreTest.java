package dev.strata.driver.devmapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The JSON files keep moby's shapes, so Docker and Strata can read each other's metadata. */
class MetadataStoreTest {
    @TempDir
    Path dir;

    @Test
    void deviceRecordsHaveMobysKeys() throws Exception {
        MetadataStore s = new MetadataStore(dir);
        s.write("", new DevInfo(1, 10L << 30, 1, true, false, null));
        s.write("abc", new DevInfo(2, 10L << 30, 2, false, false, "def"));
        assertEquals("{\"device_id\":1,\"size\":10737418240,\"transaction_id\":1,\"initialized\":true,\"deleted\":false}",
                Files.readString(dir.resolve("base")));
        assertEquals("def", s.read("abc").parent());
        s.write("base", new DevInfo(3, 1, 3, false, false, null));
        s.write("transaction-metadata", new DevInfo(4, 1, 4, false, false, null));
        assertEquals(1, s.read("").deviceId(), "a layer named base does not clobber the base device");
        assertEquals(3, s.read("base").deviceId());
        assertEquals(List.of("", "abc", "base", "transaction-metadata"), s.hashes().stream().sorted().toList());
    }

    @Test
    void readsWhatMobyWrote() throws Exception {
        Files.writeString(dir.resolve("f00"), "{\"device_id\":7,\"size\":1024,\"transaction_id\":9,\"initialized\":false,\"deleted\":true}");
        Files.writeString(dir.resolve("deviceset-metadata"), "{\"next_device_id\":7,\"BaseDeviceUUID\":\"u\",\"BaseDeviceFilesystem\":\"xfs\"}");
        Files.writeString(dir.resolve("transaction-metadata"), "{\"open_transaction_id\":10,\"device_hash\":\"f00\",\"device_id\":7}");
        Files.writeString(dir.resolve(".tmp123"), "junk");
        MetadataStore s = new MetadataStore(dir);
        assertEquals(new DevInfo(7, 1024, 9, false, true, null), s.read("f00"));
        assertEquals(new MetadataStore.DeviceSetMeta(7, "u", "xfs"), s.readDeviceSet());
        assertEquals(new MetadataStore.Transaction(10, "f00", 7), s.readTransaction());
        assertEquals(List.of("f00"), s.hashes());
        assertNull(s.read("none"));
    }
}
