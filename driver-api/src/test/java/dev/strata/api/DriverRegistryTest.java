package dev.strata.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DriverRegistryTest {
    record Fake(String name, int priority, Support support, List<String> aliases) implements DriverProvider {
        Fake(String name, int priority, Support support) {
            this(name, priority, support, List.of());
        }

        @Override
        public List<OptionSpec> options() {
            return List.of(OptionSpec.size(name + ".size", "quota"));
        }

        @Override
        public Support probe(Path home) {
            return support;
        }

        @Override
        public StorageDriver open(DriverContext context) {
            throw new UnsupportedOperationException("not needed here");
        }
    }

    @TempDir
    Path root;

    private final DriverRegistry registry = DriverRegistry.of(List.of(
            new Fake("vfs", 10, Support.yes("always")),
            new Fake("overlay", 50, Support.yes("overlay in /proc/filesystems"), List.of("overlay2")),
            new Fake("aufs", 40, Support.no("aufs is not in /proc/filesystems"))));

    private DriverSelection select(String flag, String env, String config) {
        return registry.select(new DriverRegistry.Request(root, flag, env == null ? Map.of() : Map.of(DriverRegistry.ENV_VAR, env), config));
    }

    @Test
    void precedenceIsFlagThenEnvironmentThenConfigThenPriorThenAuto() throws Exception {
        assertEquals("aufs", select("aufs", "vfs", "overlay").provider().name());
        assertEquals(DriverSelection.Source.FLAG, select("aufs", "vfs", "overlay").source());
        assertEquals("vfs", select(null, "vfs", "overlay").provider().name());
        assertEquals(DriverSelection.Source.ENVIRONMENT, select(null, "vfs", "overlay").source());
        assertEquals("aufs", select(null, null, "aufs").provider().name());
        assertEquals(DriverSelection.Source.CONFIG_FILE, select(null, null, "aufs").source());

        DriverSelection auto = select(null, null, null);
        assertEquals("overlay", auto.provider().name());
        assertEquals(DriverSelection.Source.AUTO, auto.source());

        Files.createDirectories(root.resolve("vfs/dir/layer1"));
        DriverSelection prior = select(null, null, null);
        assertEquals("vfs", prior.provider().name());
        assertEquals(DriverSelection.Source.PRIOR_DATA, prior.source());
    }

    @Test
    void autoPickReportsEveryDriverPassedOver() {
        DriverRegistry r = DriverRegistry.of(List.of(new Fake("vfs", 10, Support.yes("always")),
                new Fake("aufs", 40, Support.no("aufs is not in /proc/filesystems"))));
        DriverSelection s = r.select(new DriverRegistry.Request(root, null, Map.of(), null));
        assertEquals("vfs", s.provider().name());
        assertEquals(List.of(new DriverSelection.PassedOver("aufs", "aufs is not in /proc/filesystems")), s.passedOver());
    }

    @Test
    void twoPriorDriversIsAnErrorNamingBoth() throws Exception {
        Files.createDirectories(root.resolve("vfs/dir/a"));
        Files.createDirectories(root.resolve("overlay2/l"));
        StorageException e = assertThrows(StorageException.class, () -> select(null, null, null));
        assertTrue(e.getMessage().contains("overlay") && e.getMessage().contains("vfs"), e.getMessage());
    }

    @Test
    void unknownNamesListTheDriversThatExist() {
        UnknownDriverException e = assertThrows(UnknownDriverException.class, () -> select("nosuch", null, null));
        assertTrue(e.getMessage().contains("aufs, overlay, overlay2, vfs"), e.getMessage());
        assertThrows(UnknownDriverException.class, () -> select(null, "nosuch", null));
        assertThrows(UnknownDriverException.class, () -> select(null, null, "nosuch"));
    }

    @Test
    void aliasesSelectAndFindMobyHomes() throws Exception {
        assertEquals("overlay", select("overlay2", null, null).provider().name());
        Files.createDirectories(root.resolve("overlay2"));
        assertEquals(root.resolve("overlay2"), DriverRegistry.home(root, registry.require("overlay")));
    }

    @Test
    void nothingSupportedSaysWhyForEach() {
        DriverRegistry r = DriverRegistry.of(List.of(new Fake("aufs", 40, Support.no("no aufs"))));
        NotSupportedException e = assertThrows(NotSupportedException.class,
                () -> r.select(new DriverRegistry.Request(root, null, Map.of(), null)));
        assertTrue(e.getMessage().contains("aufs: no aufs"), e.getMessage());
    }

    @Test
    void openRefusesAnUnsupportedDriverWithItsReason() {
        NotSupportedException e = assertThrows(NotSupportedException.class,
                () -> registry.open(registry.require("aufs"), root, List.of()));
        assertTrue(e.getMessage().contains("aufs is not in /proc/filesystems"), e.getMessage());
        assertThrows(InvalidOptionException.class, () -> registry.open(registry.require("vfs"), root, List.of("vfs.bogus=1")));
    }
}
