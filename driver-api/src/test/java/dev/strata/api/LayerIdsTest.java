package dev.strata.api;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LayerIdsTest {
    @ParameterizedTest
    @ValueSource(strings = {"base", "c1", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-init", "a.b_c-d"})
    void acceptsDockerAndPlainIds(String id) {
        assertEquals(id, LayerIds.check("create", id));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "../x", "a/b", "/abs", ".hidden", "-flag", "a b", "a\nb", "é"})
    void refusesUnsafeIds(String id) {
        InvalidLayerIdException e = assertThrows(InvalidLayerIdException.class, () -> LayerIds.check("create", id));
        assertEquals("create", e.operation());
    }

    @org.junit.jupiter.api.Test
    void refusesOverlongIdsAndNul() {
        assertThrows(InvalidLayerIdException.class, () -> LayerIds.check("create", "a".repeat(129)));
        assertThrows(InvalidLayerIdException.class, () -> LayerIds.check("create", "a\0b"));
    }
}
