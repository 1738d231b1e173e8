package dev.strata.driver.aufs;

import dev.strata.api.StorageDriver;
import dev.strata.kit.DriverKit;

import java.nio.file.Path;

/** The aufs driver on a home, as its provider makes it but without the kernel probe (tests need no aufs). */
final class AufsTests {
    private AufsTests() {
    }

    static StorageDriver open(Path home) {
        return DriverKit.wrap(new AufsStorage(home));
    }

    static AufsLayout layout(StorageDriver d) {
        return DriverKit.storage(d, AufsStorage.class).layout();
    }
}
