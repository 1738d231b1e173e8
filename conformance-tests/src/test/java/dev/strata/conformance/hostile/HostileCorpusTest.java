package dev.strata.conformance.hostile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostileCorpusTest {
    @Test
    void buildsAtLeastFortyNamedCasesEachAWholeNumberOfBlocks() {
        List<HostileCase> cases = HostileCorpus.cases(false);
        assertTrue(cases.size() >= 40, "only " + cases.size() + " cases");
        Set<String> names = new HashSet<>();
        Path outside = Path.of("/nonexistent/outside");
        for (HostileCase c : cases) {
            assertTrue(names.add(c.name()), "duplicate case " + c.name());
            assertTrue(!c.mirrors().isBlank(), c.name());
            byte[] tar = c.tar().apply(outside);
            // the stream cases are malformed on purpose; the rest are whole blocks
            if (!c.name().startsWith("compat-stream-")) assertTrue(tar.length > 0 && tar.length % 512 == 0, c.name() + ": " + tar.length + " bytes");
        }
        assertTrue(cases.stream().anyMatch(c -> c.mirrors().startsWith("moby")));
        assertTrue(cases.stream().anyMatch(c -> c.mirrors().startsWith("containerd")));
    }

    @Test
    void deviceCasesFollowWhetherDevicesArePermitted() {
        long refusedWithout = HostileCorpus.cases(false).stream().filter(c -> c.expect() == HostileCase.Expect.REFUSED).count();
        long refusedWith = HostileCorpus.cases(true).stream().filter(c -> c.expect() == HostileCase.Expect.REFUSED).count();
        assertEquals(3, refusedWithout - refusedWith);
    }

    @Test
    void snapshotSeesContentModeAndNewFiles(@TempDir Path dir) throws Exception {
        HostileCorpus.populateOutside(dir);
        Map<String, String> before = HostileCorpus.snapshot(dir);
        assertEquals(before, HostileCorpus.snapshot(dir));
        assertTrue(before.get("perm400").contains("mode=400"), before.get("perm400"));
        Files.writeString(dir.resolve("victim/hello"), "changed\n");
        assertNotEquals(before, HostileCorpus.snapshot(dir));
    }
}
