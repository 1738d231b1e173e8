package dev.strata.kit;

import dev.strata.api.IdMaps;
import dev.strata.api.IdTranslation;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.Xattrs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class OwnerShiftTest {
    static final IdMaps MAP = IdMaps.parse("0:100000:65536", "0:100000:65536");
    /** cap_net_raw+ep, VFS_CAP_REVISION_2. */
    static final byte[] CAP = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    @TempDir
    Path tmp;

    static List<Integer> owner(Path p) throws Exception {
        return List.of((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
    }

    static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @Test
    void shiftsEveryOwnerKeepingSetuidSetgidAndCapabilities() throws Exception {
        assumeTrue(Kernel.isRoot(), "chown needs root");
        Path root = Files.createDirectory(tmp.resolve("root"));
        Path dir = Files.createDirectory(root.resolve("home"));
        Path user = Files.writeString(dir.resolve("notes"), "n");
        Files.setAttribute(user, "unix:uid", 1000);
        Files.setAttribute(user, "unix:gid", 1000);
        Path su = Files.writeString(root.resolve("su"), "#!/bin/sh\n");
        Files.setAttribute(su, "unix:mode", 04755);
        Path wall = Files.writeString(root.resolve("wall"), "w");
        Files.setAttribute(wall, "unix:gid", 5);
        Files.setAttribute(wall, "unix:mode", 02755);
        Path ping = Files.writeString(root.resolve("ping"), "p");
        Xattrs.set(ping, "security.capability", CAP);
        Path link = Files.createSymbolicLink(root.resolve("link"), Path.of("su"));
        Path far = Files.writeString(root.resolve("far"), "f");
        Files.setAttribute(far, "unix:uid", 70000);

        assertEquals(8, OwnerShift.shift(root, IdTranslation.toHost(MAP)));

        assertEquals(List.of(100000, 100000), owner(root));
        assertEquals(List.of(100000, 100000), owner(dir));
        assertEquals(List.of(101000, 101000), owner(user));
        assertEquals(List.of(100000, 100005), owner(wall));
        assertEquals(List.of(100000, 100000), owner(link), "the symlink itself");
        assertEquals(List.of(IdMaps.OVERFLOW_ID, 100000), owner(far), "an id outside the map becomes the overflow id");
        assertEquals(04755, mode(su));
        assertEquals(02755, mode(wall));
        assertArrayEquals(CAP, Xattrs.get(ping, "security.capability"));

        // and back, for a layer shown without maps: nothing lost but the id the map could not hold
        OwnerShift.shift(root, IdTranslation.toContainer(MAP));
        assertEquals(List.of(1000, 1000), owner(user));
        assertEquals(List.of(0, 5), owner(wall));
        assertEquals(04755, mode(su));
        assertEquals(0, OwnerShift.shift(root, IdTranslation.NONE));
    }
}
