package dev.strata.driver.aufs;

import dev.strata.api.DriverContext;
import dev.strata.api.DriverOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.InvalidOptionException;
import dev.strata.api.NotSupportedException;
import dev.strata.nativeio.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class AufsProviderTest {
    @TempDir
    Path root;

    @Test
    void foundThroughServiceLoaderWithNameAndPriority() {
        DriverProvider p = DriverRegistry.load().require("aufs");
        assertEquals(AufsProvider.class, p.getClass());
        assertEquals(40, p.priority());
        assertEquals(List.of(), p.options());
    }

    @Test
    void optionsAreRefusedBecauseThereAreNone() {
        DriverProvider p = new AufsProvider();
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> DriverOptions.parse("aufs", List.of("aufs.mountopt=x"), p.options()));
        assertTrue(e.getMessage().contains("this driver takes no options"), e.getMessage());
    }

    @Test
    void openOnThisKernelIsRefusedWithTheReasonAndTouchesNothing() {
        assumeFalse(Kernel.hasFilesystem("aufs"), "this kernel has aufs");
        DriverProvider p = new AufsProvider();
        Path home = root.resolve("aufs");
        NotSupportedException e = assertThrows(NotSupportedException.class,
                () -> p.open(new DriverContext(home, DriverOptions.none("aufs"))));
        assertTrue(e.getMessage().startsWith("open aufs: not supported: aufs is not in this kernel: aufs not in /proc/filesystems"),
                e.getMessage());
        assertFalse(Files.exists(home));
        // and auto-selection passes over it with the same reason
        NotSupportedException none = assertThrows(NotSupportedException.class, () -> DriverRegistry.of(List.of(p))
                .select(new DriverRegistry.Request(root, null, java.util.Map.of(), null)));
        assertTrue(none.getMessage().contains("aufs: aufs is not in this kernel"), none.getMessage());
    }
}
