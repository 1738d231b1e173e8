package dev.strata.plugin;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class WireTest {
    @Test
    void initRequestAsDockerdSendsItWithIdMapsUnderTheirJsonTags() throws Exception {
        Wire.InitRequest r = Wire.MAPPER.readValue("{\"Home\":\"/var/lib/docker/strata\",\"Opts\":[\"overlay.size=1G\"],"
                + "\"UIDMaps\":[{\"container_id\":0,\"host_id\":100000,\"size\":65536}],\"GIDMaps\":null}\n", Wire.InitRequest.class);
        assertEquals("/var/lib/docker/strata", r.home());
        assertEquals(List.of("overlay.size=1G"), r.optsOrEmpty());
        assertEquals(List.of(new Wire.IdMap(0, 100000, 65536)), r.uidMaps());
        assertNull(r.gidMaps());
    }

    @Test
    void theDocsSpellingOfIdMapIsAcceptedToo() throws Exception {
        assertEquals(new Wire.IdMap(1, 2, 3), Wire.MAPPER.readValue("{\"ContainerID\":1,\"HostID\":2,\"Size\":3}", Wire.IdMap.class));
    }

    @Test
    void missingFieldsAreZeroValues() throws Exception {
        assertEquals(new Wire.IdMap(0, 0, 0), Wire.MAPPER.readValue("{}", Wire.IdMap.class));
        assertEquals(Wire.DriverRequest.EMPTY, Wire.MAPPER.readValue("{}", Wire.DriverRequest.class));
    }

    @Test
    void repliesUseMobysFieldNamesAndLeaveOutWhatIsNotAnswered() throws Exception {
        assertEquals("{}", Wire.MAPPER.writeValueAsString(Wire.Reply.OK));
        assertEquals("{\"Err\":\"boom\"}", Wire.MAPPER.writeValueAsString(Wire.Reply.error("boom")));
        assertEquals("{\"Capabilities\":{\"ReproducesExactDiffs\":true}}", Wire.MAPPER.writeValueAsString(Wire.Reply.capabilities(true)));
        assertEquals("{\"Size\":0}", Wire.MAPPER.writeValueAsString(Wire.Reply.size(0)));
        assertEquals("{\"Implements\":[\"GraphDriver\"]}", Wire.MAPPER.writeValueAsString(new Wire.Manifest(List.of("GraphDriver"))));
    }

    @Test
    void applyDiffQueryIsTakenAsDockerdSendsItUnescaped() {
        assertEquals(Map.of("id", "abc-init", "parent", ""), GraphDriverApi.parseQuery("id=abc-init&parent="));
        assertEquals(Map.of("id", "a+b", "parent", "c d"), GraphDriverApi.parseQuery("id=a+b&parent=c%20d"));
        assertEquals(Map.of("id", "50%", "parent", "%zz"), GraphDriverApi.parseQuery("id=50%&parent=%zz"));
        assertEquals(Map.of(), GraphDriverApi.parseQuery(""));
    }
}
