package dev.strata.driver.aufs;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the flush that read aufs's own formats; the flush itself needs an aufs mount (AufsMountTest). */
class PseudoLinksTest {
    @Test
    void siTokenIsTakenFromTheMountOptionsAsAuplinkDoes() {
        assertEquals(Optional.of("si=8f3a2c1b0d4e5f60"),
                PseudoLinks.siOption("rw,relatime,si=8f3a2c1b0d4e5f60,dio,xino=/dev/shm/aufs.xino"));
        assertEquals(Optional.empty(), PseudoLinks.siOption("rw,relatime,dio"));
        assertEquals(Optional.empty(), PseudoLinks.siOption("rw,si="));
    }

    @Test
    void noplinkIsAWholeOption() {
        assertTrue(PseudoLinks.hasOption("rw,noplink,dio", "noplink"));
        assertFalse(PseudoLinks.hasOption("rw,noplinkx,dio", "noplink"));
    }

    @Test
    void pseudoLinkNamesGiveTheAufsInodes() {
        // inode numbers are unsigned 64-bit; the JDK's unix:ino is a signed long with the same bits
        assertEquals(Set.of(4242L, -1L),
                PseudoLinks.inodes(List.of("4242.77", "18446744073709551615.1", "junk", ".hidden", "12x.3")));
    }
}
