package dev.strata.driver.devmapper;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolStatusTest {
    @Test
    void parsesTheThinPoolStatusLine() {
        PoolStatus s = PoolStatus.parse("p", "3 25/4096 140/16384 - rw discard_passdown queue_if_no_space - 1024");
        assertEquals(3, s.transactionId());
        assertEquals(25, s.metadataUsed());
        assertEquals(4096, s.metadataTotal());
        assertEquals(140, s.dataUsed());
        assertEquals(16384, s.dataTotal());
        assertFalse(s.readOnly());
        assertFalse(s.needsCheck());
    }

    @Test
    void readOnlyAndNeedsCheckAreSeen() {
        PoolStatus s = PoolStatus.parse("p", "7 25/4096 16384/16384 - out_of_data_space discard_passdown queue_if_no_space needs_check 1024");
        assertTrue(s.readOnly());
        assertTrue(s.needsCheck());
    }

    @Test
    void aFailedPoolIsAnErrorThatSaysSo() {
        var e = assertThrows(IllegalStateException.class, () -> PoolStatus.parse("docker-pool", "Fail"));
        assertTrue(e.getMessage().contains("docker-pool"), e.getMessage());
    }
}
