package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.NotSupportedException;
import dev.strata.api.StorageDriver;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * moby graphtest's SetQuota, on an xfs with project quotas that the test makes itself, or, for a driver with a
 * filesystem of its own (btrfs), on that one.
 */
public interface QuotaTests extends DriverUnderTest {
    int MIB = 1 << 20;

    @Test
    @Order(107)
    @DisplayName("moby: SetQuota")
    default void setQuota() throws IOException {
        if (backingFilesystem().isPresent()) {
            // A driver with a filesystem of its own (btrfs) has its quotas there: its tests' directories are on it.
            setQuota(driver());
            return;
        }
        try (LoopFilesystem xfs = LoopFilesystem.xfsWithProjectQuota(testRoot().resolve("xfs-quota"))) {
            StorageDriver d = openAt(xfs.mountPoint());
            try {
                setQuota(d);
            } finally {
                d.cleanup(); // before the xfs goes away under it
            }
        }
    }

    private void setQuota(StorageDriver d) throws IOException {
        assumeTrue(d.capabilities().quota(), driverName() + " reports no quota support (Capabilities.quota() is false), even on "
                + backingFilesystem().orElse("xfs with pquota"));
        MobyFixtures.createBase(d, "Base");
        String layer = driverName() + "Test";
        try {
            d.createReadWrite(layer, "Base", CreateOptions.of(Map.of("size", "50M")));
        } catch (NotSupportedException e) {
            abort("size is not supported: " + e.getMessage());
        }
        Layers.mounted(d, layer, root -> {
            writeRandomFile(root.resolve("smallfile"), 25 * MIB); // half the quota: must fit
            IOException e = assertThrows(IOException.class, () -> writeRandomFile(root.resolve("bigfile"), 50 * MIB),
                    "writing 50 MiB more into a layer with size=50M succeeded");
            String m = String.valueOf(e.getMessage());
            assertTrue(m.contains("Disk quota exceeded") || m.contains("No space left on device"),
                    "expected EDQUOT or ENOSPC, got " + e);
            return null;
        });
    }

    private static void writeRandomFile(Path path, int size) throws IOException {
        byte[] chunk = RandomContent.of(MIB, 0);
        try (OutputStream out = Files.newOutputStream(path)) {
            for (int written = 0; written < size; written += MIB) out.write(chunk);
        }
    }
}
