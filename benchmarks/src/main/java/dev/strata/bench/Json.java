package dev.strata.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * peerbench's result lines (maps, lists, strings, numbers, booleans, null) through Jackson, with numbers as the Go
 * peers' encoding/json writes them: a whole double without its ".0", so both sides' lines read alike.
 */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper().registerModule(new SimpleModule()
            .addSerializer(Double.class, new GoDouble()).addSerializer(double.class, new GoDouble()));

    private Json() {
    }

    static String write(Object o) {
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class GoDouble extends StdSerializer<Double> {
        GoDouble() {
            super(Double.class);
        }

        @Override
        public void serialize(Double d, JsonGenerator g, SerializerProvider p) throws IOException {
            if (d == Math.rint(d) && !d.isInfinite() && Math.abs(d) < 1e15) g.writeNumber(d.longValue());
            else g.writeNumber(d);
        }
    }
}
