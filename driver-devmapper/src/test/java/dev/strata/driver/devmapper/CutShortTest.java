package dev.strata.driver.devmapper;

import dev.strata.api.DriverOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the kit sweeps after a lost run directory is named from the device records alone (no pool, no device-mapper):
 * the {@code -new-<id>} of a create and the {@code -apply-<id>} of an apply a kill cut short, an id map record whose
 * layer's record a killed remove deleted, and nothing else.
 */
class CutShortTest {
    @TempDir
    Path home;

    @Test
    void namesCutShortCreatesAndAppliesByTheirRecords() throws Exception {
        Path meta = Files.createDirectories(home.resolve("metadata"));
        String record = "{\"device_id\":7,\"size\":1024,\"transaction_id\":9,\"initialized\":false,\"deleted\":false}";
        for (String f : List.of("base", "layer", "-new-grown", "-apply-applied", "-new-", "-apply-", "deviceset-metadata",
                "transaction-metadata", ".tmp-new-x")) {
            Files.writeString(meta.resolve(f), record);
        }
        Path shifted = Files.createDirectories(home.resolve("shifted")); // id map records: a removed layer's is named
        for (String f : List.of("layer", "removed")) Files.writeString(shifted.resolve(f), "uids 0:100000:65536\ngids 0:100000:65536\n");
        DevmapperOptions o = DevmapperOptions.from("devmapper", DriverOptions.parse("devmapper", List.of(), DevmapperOptions.SPECS));
        DevmapperStorage s = new DevmapperStorage(home, o);
        assertEquals(List.of("applied", "grown", "removed"), s.cutShort().stream().sorted().toList());
    }

    @Test
    void namesNothingInAHomeWithoutRecords() {
        DevmapperOptions o = DevmapperOptions.from("devmapper", DriverOptions.parse("devmapper", List.of(), DevmapperOptions.SPECS));
        assertEquals(List.of(), new DevmapperStorage(home, o).cutShort());
    }
}
