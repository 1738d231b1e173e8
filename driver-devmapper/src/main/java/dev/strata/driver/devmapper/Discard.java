package dev.strata.driver.devmapper;

import dev.strata.nativeio.Fd;
import dev.strata.nativeio.Ioctl;
import dev.strata.nativeio.PosixFiles;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.logging.Logger;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * moby's issueDiscard (dm.blkdiscard): before a thin device is deleted, BLKDISCARD its whole range so that the
 * pool passes the discards down and a loop file gets its holes back. Skipped while someone has the device open.
 */
final class Discard {
    private static final Logger LOG = Logger.getLogger(Discard.class.getName());
    private static final long BLKDISCARD = 0x1277;

    private Discard() {
    }

    static void issue(DeviceSet ds, String hash, DevInfo info) {
        try {
            Path dev = ds.activate(hash, info);
            var di = ds.dm.info(ds.devName(hash));
            if (di.isEmpty() || di.get().openCount() != 0) return;
            try (Fd fd = PosixFiles.open(dev, PosixFiles.O_RDWR, 0); Arena a = Arena.ofConfined()) {
                MemorySegment range = a.allocate(16, 8);
                range.set(JAVA_LONG, 0, 0L);
                range.set(JAVA_LONG, 8, info.size());
                Ioctl.call(fd, BLKDISCARD, range, "BLKDISCARD");
            }
        } catch (RuntimeException e) {
            LOG.fine("Error discarding block on device: " + e.getMessage() + " (ignoring)");
        }
    }
}
