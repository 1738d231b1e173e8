package dev.strata.api;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DriverOptionsTest {
    private static final List<OptionSpec> SPECS = List.of(
            OptionSpec.size("vfs.size", "quota"),
            OptionSpec.bool("vfs.flag", "a flag"),
            OptionSpec.percent("dm.min_free_space", "free"));

    @Test
    void parsesTypedValuesCaseInsensitively() {
        DriverOptions o = DriverOptions.parse("vfs", List.of("VFS.Size=10G", "vfs.flag=true", "dm.min_free_space=10%"), SPECS);
        assertEquals(10L << 30, o.size("vfs.size").orElseThrow());
        assertTrue(o.bool("vfs.flag").orElseThrow());
        assertEquals(10, o.percent("dm.min_free_space").orElseThrow());
        assertEquals(List.of("vfs.size=10G", "vfs.flag=true", "dm.min_free_space=10%"), o.asList());
    }

    @Test
    void unknownKeyNamesTheKeyAndTheValidOnes() {
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> DriverOptions.parse("vfs", List.of("vfs.bogus=1"), SPECS));
        assertEquals("vfs.bogus", e.key());
        assertTrue(e.getMessage().contains("unknown option vfs.bogus"), e.getMessage());
        assertTrue(e.getMessage().contains("vfs.size, vfs.flag, dm.min_free_space"), e.getMessage());
    }

    @Test
    void malformedValuesAreRefusedWithTheKey() {
        InvalidOptionException size = assertThrows(InvalidOptionException.class,
                () -> DriverOptions.parse("vfs", List.of("vfs.size=lots"), SPECS));
        assertTrue(size.getMessage().contains("vfs.size") && size.getMessage().contains("lots"), size.getMessage());
        assertThrows(InvalidOptionException.class, () -> DriverOptions.parse("vfs", List.of("vfs.flag=maybe"), SPECS));
        assertThrows(InvalidOptionException.class, () -> DriverOptions.parse("vfs", List.of("dm.min_free_space=10"), SPECS));
        InvalidOptionException noEq = assertThrows(InvalidOptionException.class,
                () -> DriverOptions.parse("vfs", List.of("vfs.size"), SPECS));
        assertTrue(noEq.getMessage().contains("key=value"), noEq.getMessage());
    }

    @Test
    void sizesReadLikeDocker() {
        assertEquals(512, Sizes.parse("512"));
        assertEquals(10L << 10, Sizes.parse("10k"));
        assertEquals(20L << 20, Sizes.parse("20MB"));
        assertEquals(100L << 30, Sizes.parse("100G"));
        assertEquals(3L << 29, Sizes.parse("1.5GiB"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("-1G"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("G"));
        assertEquals("10.74GB", Sizes.human(10L << 30));
        assertEquals("0B", Sizes.human(0));
    }
}
