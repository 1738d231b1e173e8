package dev.strata.kit;

import dev.strata.api.InvalidLayerIdException;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.MountSpecs;
import dev.strata.api.StorageDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A storage that describes its mounts makes a kit driver that does, with the kit's id checks in front. */
class DescribingKitDriverTest {
    @TempDir
    Path tmp;

    /** DirStorage that answers a bind mount of a layer's root. */
    static final class BindDescribed extends DirStorage implements MountSpecs {
        BindDescribed(Path home) {
            super(home);
        }

        @Override
        public List<MountSpec> mountSpecs(String id, boolean readOnly) {
            return List.of(new MountSpec("bind", root(id).toString(), List.of(readOnly ? "ro" : "rw", "rbind")));
        }
    }

    @Test
    void describesExistingLayersAndRefusesOthersAsEveryCallDoes() {
        StorageDriver d = DriverKit.wrap(new BindDescribed(tmp.resolve("described")));
        MountSpecs specs = MountSpecs.of(d).orElseThrow();
        d.create("a", null, null);
        assertEquals(List.of(new MountSpecs.MountSpec("bind", d.get("a", "").toString(), List.of("ro", "rbind"))), specs.mountSpecs("a", true));
        d.put("a");
        assertThrows(LayerUnknownException.class, () -> specs.mountSpecs("missing", false));
        assertThrows(InvalidLayerIdException.class, () -> specs.mountSpecs("../a", false));
    }

    @Test
    void aStorageThatDoesNotDescribeMakesADriverThatDoesNot() {
        assertFalse(MountSpecs.of(DriverKit.wrap(new DirStorage(tmp.resolve("plain")))).isPresent());
        assertTrue(MountSpecs.of(DriverKit.wrap(new BindDescribed(tmp.resolve("b")))).isPresent());
    }
}
