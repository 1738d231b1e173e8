package dev.strata.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintWriter;

/** JSON output, loaded only when asked for: Jackson costs start-up time that plain commands should not pay. */
final class Output {
    private Output() {
    }

    /** An ordered map from alternating keys and values, so JSON fields come out in a stable order. */
    static java.util.Map<String, Object> fields(Object... kv) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static void json(PrintWriter out, Object value) {
        try {
            out.println(new ObjectMapper().writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
