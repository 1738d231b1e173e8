package dev.strata.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdMapsTest {
    @Test
    void mapsBothWaysAndShowsTheOverflowIdOutsideTheMap() {
        IdMaps m = IdMaps.parse("0:100000:65536", "0:200000:1000,1000:300000:10");
        assertEquals(100000, m.rootUid());
        assertEquals(200000, m.rootGid());
        assertEquals(101000, m.hostUid(1000));
        assertEquals(300005, m.hostGid(1005));
        assertEquals(IdMaps.OVERFLOW_ID, m.hostUid(65536));
        assertEquals(IdMaps.OVERFLOW_ID, m.hostGid(1010));
        assertEquals(1000, m.containerUid(101000));
        assertEquals(1005, m.containerGid(300005));
        assertEquals(IdMaps.OVERFLOW_ID, m.containerUid(0), "host root is outside the map");
        assertEquals(-2, IdMaps.parse("0:0:4294967295", "0:0:4294967295").hostUid(-2), "ids are unsigned: 4294967294 maps to itself");
    }

    @Test
    void noMapsLeaveIdsAlone() {
        assertTrue(IdMaps.NONE.isNone());
        assertEquals(70000, IdMaps.NONE.hostUid(70000));
        assertEquals(0, IdMaps.NONE.containerGid(0));
        assertEquals(IdMaps.NONE, IdMaps.parse("", null));
    }

    @Test
    void writesTheFormsTheEnginesAndTheKernelUse() {
        IdMaps m = new IdMaps(List.of(new IdMapping(0, 100000, 65536)), List.of(new IdMapping(0, 100000, 65536), new IdMapping(65536, 1000, 1)));
        assertEquals("0:100000:65536", m.uidSpec());
        assertEquals("0:100000:65536,65536:1000:1", m.gidSpec());
        assertEquals("0 100000 65536\n65536 1000 1\n", m.gidMapLines());
        assertEquals(m, IdMaps.parse(m.uidSpec(), m.gidSpec()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0:100000", "a:b:c", "0:100000:0", "0:100000:-1", "0:4294967295:2", "0:100000:10,5:200000:10",
            "0:100000:10,10:100005:10", "1:100000:10"})
    void refusesBadMapsWithTheReason(String uids) {
        InvalidIdMapException e = assertThrows(InvalidIdMapException.class, () -> IdMaps.parse(uids, "0:100000:65536"));
        assertTrue(e.getMessage().startsWith("id map "), e.getMessage());
    }

    @Test
    void oneMapWithoutTheOtherIsRefused() {
        InvalidIdMapException e = assertThrows(InvalidIdMapException.class, () -> IdMaps.parse("0:100000:65536", ""));
        assertTrue(e.getMessage().contains("give both or neither"), e.getMessage());
    }
}
