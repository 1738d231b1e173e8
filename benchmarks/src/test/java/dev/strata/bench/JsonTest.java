package dev.strata.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The result lines read as the Go peers' do: fields in the order put, whole doubles without a fraction. */
class JsonTest {
    @Test
    void aResultLineKeepsItsOrderAndWritesWholeDoublesAsGoDoes() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "strata-vfs");
        r.put("run", 3);
        r.put("bytes", 1L << 40);
        r.put("init_ms", 12.0);
        r.put("median_us", 1.25);
        r.put("ok", true);
        r.put("error", null);
        r.put("values", new ArrayList<>(Arrays.asList(1.0, 0.5, null)));
        r.put("phases", Map.of("create", Map.of("n", 2)));
        r.put("text", "a \"quoted\"\\ line\n\tend");
        assertEquals("{\"impl\":\"strata-vfs\",\"run\":3,\"bytes\":1099511627776,\"init_ms\":12,\"median_us\":1.25,"
                        + "\"ok\":true,\"error\":null,\"values\":[1,0.5,null],\"phases\":{\"create\":{\"n\":2}},"
                        + "\"text\":\"a \\\"quoted\\\"\\\\ line\\n\\tend\"}",
                Json.write(r));
        assertEquals("[1.0E15,-3]", Json.write(List.of(1e15, -3.0)), "from 1e15 up a double keeps Java's form");
    }
}
