package dev.strata.driver.aufs;

import dev.strata.api.StorageException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BranchOptionsTest {
    private static final int PAGE = 4096;

    @Test
    void fewBranchesGiveMobysSingleMountString() {
        BranchOptions.Plan p = BranchOptions.plan("/h/diff/c", List.of("/h/diff/b", "/h/diff/a"), null, false, PAGE);
        assertEquals("br:/h/diff/c=rw:/h/diff/b=ro+wh:/h/diff/a=ro+wh,dio,xino=/dev/shm/aufs.xino", p.mount());
        assertEquals(List.of(), p.remounts());
    }

    @Test
    void dirperm1AndMountLabelAreAppendedAsMobyDoes() {
        BranchOptions.Plan p = BranchOptions.plan("/r", List.of("/a"), "system_u:object_r:container_file_t:s0", true, PAGE);
        assertEquals("br:/r=rw:/a=ro+wh,dio,xino=/dev/shm/aufs.xino,dirperm1,context=\"system_u:object_r:container_file_t:s0\"",
                p.mount());
    }

    @Test
    void baseLayerAloneIsJustTheRwBranch() {
        assertEquals("br:/r=rw,dio,xino=/dev/shm/aufs.xino", BranchOptions.plan("/r", List.of(), "", false, PAGE).mount());
    }

    @Test
    void aBranchThatExactlyFillsTheRoomGoesInTheMountCallAndOneByteMoreGoesToAppend() {
        int page = 200;
        int room = page - BranchOptions.RESERVED;           // 146 bytes for the branch list
        int fits = room - "br:/r=rw".length() - ":=ro+wh".length();
        String exact = "/" + "x".repeat(fits - 1);
        BranchOptions.Plan in = BranchOptions.plan("/r", List.of(exact), null, false, page);
        assertEquals("br:/r=rw:" + exact + "=ro+wh,dio,xino=/dev/shm/aufs.xino", in.mount());
        assertEquals(List.of(), in.remounts());

        String oneMore = exact + "y";
        BranchOptions.Plan out = BranchOptions.plan("/r", List.of(oneMore), null, false, page);
        assertEquals("br:/r=rw,dio,xino=/dev/shm/aufs.xino", out.mount());
        assertEquals(List.of("append:" + oneMore + "=ro+wh,"), out.remounts());
    }

    @Test
    void appendChunksEndWithACommaAndCarryTheLabelLikeMoby() {
        int page = 100;                                       // room 46 - len(label)
        List<String> ro = List.of("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
        BranchOptions.Plan p = BranchOptions.plan("/r", ro, "l", false, page);
        assertEquals("br:/r=rw,dio,xino=/dev/shm/aufs.xino,context=\"l\"", p.mount());
        assertEquals(List.of("append:" + ro.get(0) + "=ro+wh,,context=\"l\"", "append:" + ro.get(1) + "=ro+wh,,context=\"l\""),
                p.remounts());
    }

    @Test
    void aBranchLongerThanAPageIsAClearErrorNotALoop() {
        String huge = "/" + "z".repeat(300);
        StorageException e = assertThrows(StorageException.class,
                () -> BranchOptions.plan("/r", List.of(huge), null, false, 200));
        assertTrue(e.getMessage().contains("too long"), e.getMessage());
        assertThrows(StorageException.class, () -> BranchOptions.plan(huge, List.of(), null, false, 200));
    }

    @Test
    void byteLengthsCountUtf8NotChars() {
        int page = 200;
        int fits = page - BranchOptions.RESERVED - "br:/r=rw".length() - ":=ro+wh".length();
        // 'é' is two bytes: this path has exactly the chars that fit, but one byte too many.
        String path = "/é" + "x".repeat(fits - 2);
        assertEquals(fits, path.length());
        BranchOptions.Plan p = BranchOptions.plan("/r", List.of(path), null, false, page);
        assertEquals(1, p.remounts().size());
    }

    /** moby's 126-layer stack (TestMountMoreThan42Layers): every branch once, in order, each call within a page. */
    @Test
    void mountMoreThan42Layers() {
        checkDeepStack("/tmp/aufs-tests/aufs");
    }

    /**
     * moby's TestMountMoreThan42LayersMatchingPathLength: a home whose length puts the page boundary between two
     * branches or inside a branch's "=ro+wh".
     */
    @Test
    void mountMoreThan42LayersMatchingPathLength() {
        String zeroes = "0";
        while (true) {
            String home = "/tmp/aufs-tests/" + zeroes + "/aufs";
            int branch = 77 + home.length();                  // ":" + home + "/diff/" + 64 hex + "=ro+wh"
            int mod = 4095 % branch;
            if (mod == 0 || mod > branch - 2) {
                checkDeepStack(home);
                return;
            }
            zeroes += "0";
        }
    }

    private static void checkDeepStack(String home) {
        List<String> ids = new ArrayList<>();
        for (int i = 1; i < 127; i++) ids.add(sha256(Integer.toString(i)));
        String rw = home + "/diff/" + ids.getLast();
        List<String> ro = new ArrayList<>();
        for (int i = ids.size() - 2; i >= 0; i--) ro.add(home + "/diff/" + ids.get(i));
        assertEquals(125, ro.size());
        for (boolean dirperm1 : new boolean[] {false, true}) {
            for (String label : new String[] {"", "system_u:object_r:container_file_t:s0:c1,c2"}) {
                BranchOptions.Plan p = BranchOptions.plan(rw, ro, label, dirperm1, PAGE);
                int room = PAGE - label.length() - BranchOptions.RESERVED - (dirperm1 ? 9 : 0);
                assertTrue(!p.remounts().isEmpty(), "125 branches of " + (77 + home.length()) + " bytes need remounts");

                List<String> seen = new ArrayList<>();
                String branches = p.mount().substring(0, p.mount().indexOf(",dio,"));
                assertTrue(bytes(branches) <= room);
                assertTrue(bytes(p.mount()) < PAGE, "mount data must fit in a page with its NUL");
                String[] first = branches.substring("br:".length()).split(":");
                assertEquals(rw + "=rw", first[0]);
                for (int i = 1; i < first.length; i++) seen.add(stripPerm(first[i]));
                int next = seen.size();
                assertTrue(bytes(branches) + bytes(":" + ro.get(next) + "=ro+wh") > room, "the first call is filled greedily");

                for (String r : p.remounts()) {
                    assertTrue(bytes(r) < PAGE, "remount data must fit in a page");
                    String chunk = label.isEmpty() ? r : r.substring(0, r.indexOf(",context="));
                    assertTrue(bytes(chunk) <= room);
                    int before = seen.size();
                    for (String item : chunk.split(",")) {
                        assertTrue(item.startsWith("append:"), item);
                        seen.add(stripPerm(item.substring("append:".length())));
                    }
                    if (seen.size() < ro.size()) {
                        assertTrue(bytes(chunk) + bytes("append:" + ro.get(seen.size()) + "=ro+wh,") > room,
                                "each remount is filled greedily (chunk from branch " + before + ")");
                    }
                }
                assertEquals(ro, seen, "every branch once, nearest parent first, none cut");
            }
        }
    }

    private static String stripPerm(String branch) {
        assertTrue(branch.endsWith("=ro+wh"), branch);
        return branch.substring(0, branch.length() - "=ro+wh".length());
    }

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
