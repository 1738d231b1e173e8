package dev.strata.plugin;

import dev.strata.api.IdMapping;
import dev.strata.api.IdMaps;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.strata.api.Change;
import dev.strata.api.StatusEntry;

import java.util.List;
import java.util.Map;

/**
 * The JSON of the graphdriver plugin protocol, field for field as moby 20.10's {@code daemon/graphdriver/proxy.go}
 * writes and reads it. Go's decoder matches names case-insensitively, ignores unknown fields and leaves missing
 * ones at their zero value; {@link #MAPPER} does the same.
 */
final class Wire {
    private Wire() {
    }

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    /** Readers bound to their type once, rather than a type lookup per call. */
    static final ObjectReader DRIVER_REQUEST = MAPPER.readerFor(DriverRequest.class);
    static final ObjectReader INIT_REQUEST = MAPPER.readerFor(InitRequest.class);
    private static final ObjectWriter WRITER = MAPPER.writer();
    /** The replies most calls answer (Create, Put, Remove, Exists), encoded once. */
    private static final byte[] OK_BYTES = encodeOnce(Reply.OK);
    private static final byte[] EXISTS_BYTES = encodeOnce(Reply.EXISTS);
    private static final byte[] MISSING_BYTES = encodeOnce(Reply.MISSING);

    /** The JSON of a reply. The bytes of a constant reply are shared: callers must not write to them. */
    static byte[] encode(Object reply) throws JsonProcessingException {
        if (reply == Reply.OK) return OK_BYTES;
        if (reply == Reply.EXISTS) return EXISTS_BYTES;
        if (reply == Reply.MISSING) return MISSING_BYTES;
        return WRITER.writeValueAsBytes(reply);
    }

    private static byte[] encodeOnce(Reply reply) {
        try {
            return MAPPER.writeValueAsBytes(reply);
        } catch (JsonProcessingException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Loads and links Jackson's serializers for every wire type, so that dockerd's first calls (Activate, Init,
     * Capabilities) do not each pay a cold start of a few hundred milliseconds.
     */
    static void warmUp() {
        try {
            DRIVER_REQUEST.readValue("{\"ID\":\"a\",\"Parent\":\"b\",\"MountLabel\":\"\",\"StorageOpt\":{\"size\":\"1\"}}");
            INIT_REQUEST.readValue("{\"Home\":\"/h\",\"Opts\":[],\"UIDMaps\":[{\"container_id\":0,\"host_id\":0,\"size\":1}]}");
            MAPPER.writeValueAsBytes(new Manifest(List.of("GraphDriver")));
            MAPPER.writeValueAsBytes(new Reply("e", "d", true, List.of(List.of("k", "v")), List.of(new WireChange("/a", 1)),
                    1L, Map.of("k", "v"), new WireCapabilities(false)));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("the wire types do not round-trip", e);
        }
    }

    /** proxy.go's graphDriverRequest: every field is omitempty, so any may be missing. */
    record DriverRequest(
            @JsonProperty("ID") String id,
            @JsonProperty("Parent") String parent,
            @JsonProperty("MountLabel") String mountLabel,
            @JsonProperty("StorageOpt") Map<String, String> storageOpt) {
        static final DriverRequest EMPTY = new DriverRequest(null, null, null, null);
    }

    /** proxy.go's graphDriverInitRequest. Opts, UIDMaps and GIDMaps are not omitempty: dockerd sends null. */
    record InitRequest(
            @JsonProperty("Home") String home,
            @JsonProperty("Opts") List<String> opts,
            @JsonProperty("UIDMaps") List<IdMap> uidMaps,
            @JsonProperty("GIDMaps") List<IdMap> gidMaps) {
        static final InitRequest EMPTY = new InitRequest(null, null, null, null);

        List<String> optsOrEmpty() {
            return opts == null ? List.of() : opts;
        }

        /** dockerd's --userns-remap maps; an error names what is wrong with them. */
        IdMaps idMaps() {
            return new IdMaps(ranges(uidMaps), ranges(gidMaps));
        }

        private static List<IdMapping> ranges(List<IdMap> maps) {
            return maps == null ? List.of() : maps.stream().map(m -> new IdMapping(m.containerId(), m.hostId(), m.size())).toList();
        }
    }

    /**
     * idtools.IDMap. The wire names are {@code container_id/host_id/size} (the json tags); the plugin docs show
     * {@code ContainerID/HostID/Size}, which Go would not decode. We accept the doc spelling too.
     */
    record IdMap(
            @JsonProperty("container_id") @JsonAlias("ContainerID") long containerId,
            @JsonProperty("host_id") @JsonAlias("HostID") long hostId,
            @JsonProperty("size") @JsonAlias("Size") long size) {
    }

    /** Plugin.Activate's reply (pkg/plugins Manifest). */
    record Manifest(@JsonProperty("Implements") List<String> implementsList) {
    }

    /** archive.Change: Kind 0 modify, 1 add, 2 delete. */
    record WireChange(@JsonProperty("Path") String path, @JsonProperty("Kind") int kind) {
        static WireChange of(Change c) {
            return new WireChange(c.path(), c.kind().wireValue());
        }
    }

    /** graphdriver.Capabilities. */
    record WireCapabilities(@JsonProperty("ReproducesExactDiffs") boolean reproducesExactDiffs) {
    }

    /**
     * proxy.go's graphDriverResponse. Only the fields an endpoint answers are set; the rest are left out, as Go's
     * omitempty would. Capabilities is a struct in Go and so is always present in its encoding, but the proxy only
     * reads it from the Capabilities call, where we always set it (the docs' bare {"ReproducesExactDiffs":..} is
     * wrong: the proxy decodes {@code ret.Capabilities}).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Reply(
            @JsonProperty("Err") String err,
            @JsonProperty("Dir") String dir,
            @JsonProperty("Exists") Boolean exists,
            @JsonProperty("Status") List<List<String>> status,
            @JsonProperty("Changes") List<WireChange> changes,
            @JsonProperty("Size") Long size,
            @JsonProperty("Metadata") Map<String, String> metadata,
            @JsonProperty("Capabilities") WireCapabilities capabilities) {
        static final Reply OK = new Reply(null, null, null, null, null, null, null, null);
        static final Reply EXISTS = new Reply(null, null, true, null, null, null, null, null);
        static final Reply MISSING = new Reply(null, null, false, null, null, null, null, null);

        static Reply error(String message) {
            return new Reply(message == null || message.isEmpty() ? "unknown error" : message,
                    null, null, null, null, null, null, null);
        }

        static Reply dir(String dir) {
            return new Reply(null, dir, null, null, null, null, null, null);
        }

        static Reply exists(boolean exists) {
            return exists ? EXISTS : MISSING;
        }

        static Reply status(List<StatusEntry> entries) {
            return new Reply(null, null, null, entries.stream().map(e -> List.of(e.key(), e.value())).toList(),
                    null, null, null, null);
        }

        static Reply changes(List<Change> changes) {
            return new Reply(null, null, null, null, changes.stream().map(WireChange::of).toList(),
                    null, null, null);
        }

        static Reply size(long size) {
            return new Reply(null, null, null, null, null, size, null, null);
        }

        static Reply metadata(Map<String, String> metadata) {
            return new Reply(null, null, null, null, null, null, metadata, null);
        }

        static Reply capabilities(boolean reproducesExactDiffs) {
            return new Reply(null, null, null, null, null, null, null, new WireCapabilities(reproducesExactDiffs));
        }
    }
}
