package dev.strata.e2e;

import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code strata plugin serve} as a real process: SIGTERM unmounts what it mounted (the driver's cleanup) and exits. */
@Timeout(120)
class PluginProcessTest {
    @Test
    void sigtermStopsTheServerThroughTheDriversCleanup() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root: mounts");
        Optional<DriverProvider> overlay = DriverRegistry.load().find("overlay");
        // overlay mounts on Get, so its cleanup has something to undo; vfs is the fallback where overlay cannot run.
        String driver = overlay.isPresent() && overlay.get().probe(E2e.BASE).supported() ? "overlay" : "vfs";
        Path run = E2e.mountRun("process-" + driver);
        PluginProcess plugin = null;
        try {
            Path home = run.resolve("data/strata");
            plugin = PluginProcess.start(E2e.ID + "-process", driver, run.resolve("plugin.log"), List.of());
            assertEquals("{\"Implements\":[\"GraphDriver\"]}", PluginClient.call(plugin.socket, "Plugin.Activate", null).body());
            assertEquals(200, PluginClient.call(plugin.socket, "GraphDriver.Init", "{\"Home\":\"" + home + "\",\"Opts\":null,\"UIDMaps\":null,\"GIDMaps\":null}").status());
            assertEquals(200, PluginClient.call(plugin.socket, "GraphDriver.Create", "{\"ID\":\"base\"}").status());
            assertEquals(200, PluginClient.call(plugin.socket, "GraphDriver.CreateReadWrite", "{\"ID\":\"c1\",\"Parent\":\"base\"}").status());
            PluginClient.Reply get = PluginClient.call(plugin.socket, "GraphDriver.Get", "{\"ID\":\"c1\"}");
            assertEquals(200, get.status(), get.body());
            if (driver.equals("overlay")) assertFalse(MountInfo.under(home).isEmpty(), "overlay's Get mounted the layer");

            assertEquals(143, plugin.stop(), plugin.logText());
            assertTrue(MountInfo.under(home).isEmpty(), () -> "still mounted after SIGTERM: " + MountInfo.under(home));
            assertFalse(Files.exists(plugin.socket), "socket removed");
            assertTrue(plugin.logText().contains("stopped serving on " + plugin.socket + " after the driver's cleanup"), plugin.logText());
        } finally {
            if (plugin != null) plugin.close();
            E2e.unmountRun(run, Path.of("target", "e2e-logs"));
        }
    }
}
