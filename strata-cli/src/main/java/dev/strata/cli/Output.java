package dev.strata.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.PrintWriter;

/** JSON output, loaded only when asked for: Jackson costs start-up time that plain commands should not pay. */
final class Output {
    private Output() {
    }

    static void json(PrintWriter out, Object value) {
        try {
            out.println(new ObjectMapper().writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
