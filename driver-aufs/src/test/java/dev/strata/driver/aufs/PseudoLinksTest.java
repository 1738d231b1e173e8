package dev.strata.driver.aufs;

import dev.strata.testsupport.Tmpfs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

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

    /**
     * The flush's steps against plain files: the maintenance file gets "si=..." then "clean", only the listed
     * inodes are touched (a chown(-1,-1) changes nothing but the ctime, which is what makes aufs copy up), and the
     * list is emptied. The kernel's side of it needs aufs (AufsMountTest).
     */
    @Test
    void flushTouchesExactlyTheListedInodesAndEmptiesTheList(@TempDir Path tmp) throws Exception {
        try (Tmpfs fs = Tmpfs.at(tmp, "512m")) {
            Path union = Files.createDirectories(tmp.resolve("union/sub"));
            Path linked = Files.writeString(union.resolve("linked"), "x");
            Path other = Files.writeString(union.resolve("other"), "y");
            Path rw = Files.createDirectories(tmp.resolve("rw/" + PseudoLinks.PLINK_DIR));
            long ino = (Long) Files.getAttribute(linked, "unix:ino");
            Files.writeString(rw.resolve(Long.toUnsignedString(ino) + ".99"), "");
            Path maint = Files.createFile(tmp.resolve("plink_maint"));
            Object linkedCtime = Files.getAttribute(linked, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
            Object otherCtime = Files.getAttribute(other, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
            Thread.sleep(20);

            PseudoLinks.flushOnThisThread(tmp.resolve("union"), tmp.resolve("rw"), "si=1f", maint);

            assertEquals("si=1fclean", Files.readString(maint));
            assertFalse(linkedCtime.equals(Files.getAttribute(linked, "unix:ctime", LinkOption.NOFOLLOW_LINKS)));
            assertEquals(otherCtime, Files.getAttribute(other, "unix:ctime", LinkOption.NOFOLLOW_LINKS));
            try (var s = Files.list(rw)) {
                assertEquals(0, s.count());
            }
        }
    }
}
