package dev.strata.plugin;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.strata.api.CreateOptions;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The endpoints of the graphdriver plugin protocol, without HTTP: each takes the request body and answers what
 * moby's {@code graphDriverProxy} decodes. Driver errors propagate as {@link RuntimeException}s; the HTTP layer turns
 * them into {@code {"Err":...}} replies.
 */
final class GraphDriverApi {
    static final String MANIFEST_INTERFACE = "GraphDriver";

    /** How an endpoint's request and reply travel. */
    enum Kind {
        /** JSON request body, JSON reply. */
        JSON,
        /** JSON request body, a tar stream as the reply (Diff). */
        TAR_REPLY,
        /** A tar stream as the request body with the ids in the query, JSON reply (ApplyDiff). */
        TAR_REQUEST
    }

    enum Endpoint {
        ACTIVATE("/Plugin.Activate", Kind.JSON),
        INIT("/GraphDriver.Init", Kind.JSON),
        CREATE("/GraphDriver.Create", Kind.JSON),
        CREATE_READ_WRITE("/GraphDriver.CreateReadWrite", Kind.JSON),
        REMOVE("/GraphDriver.Remove", Kind.JSON),
        GET("/GraphDriver.Get", Kind.JSON),
        PUT("/GraphDriver.Put", Kind.JSON),
        EXISTS("/GraphDriver.Exists", Kind.JSON),
        STATUS("/GraphDriver.Status", Kind.JSON),
        GET_METADATA("/GraphDriver.GetMetadata", Kind.JSON),
        CLEANUP("/GraphDriver.Cleanup", Kind.JSON),
        CAPABILITIES("/GraphDriver.Capabilities", Kind.JSON),
        DIFF("/GraphDriver.Diff", Kind.TAR_REPLY),
        CHANGES("/GraphDriver.Changes", Kind.JSON),
        APPLY_DIFF("/GraphDriver.ApplyDiff", Kind.TAR_REQUEST),
        DIFF_SIZE("/GraphDriver.DiffSize", Kind.JSON);

        final String path;
        final Kind kind;

        Endpoint(String path, Kind kind) {
            this.path = path;
            this.kind = kind;
        }

        /** The method name dockerd calls, e.g. {@code GraphDriver.Create}. */
        String method() {
            return path.substring(1);
        }

        private static final Map<String, Endpoint> BY_PATH = Arrays.stream(values()).collect(
                java.util.stream.Collectors.toUnmodifiableMap(e -> e.path, e -> e));

        static Optional<Endpoint> byPath(String path) {
            return Optional.ofNullable(BY_PATH.get(path));
        }
    }

    /** A request this server cannot even parse: it gets {@code status} and {@code {"Err"}}, and nothing changes. */
    static final class BadRequestException extends RuntimeException {
        final int status;

        BadRequestException(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final DriverHost host;

    GraphDriverApi(DriverHost host) {
        this.host = host;
    }

    /** A JSON endpoint: the reply object to encode. */
    Object call(Endpoint endpoint, byte[] body) {
        return switch (endpoint) {
            case ACTIVATE -> new Wire.Manifest(List.of(MANIFEST_INTERFACE));
            case INIT -> {
                Wire.InitRequest r = parse(endpoint, body, Wire.INIT_REQUEST, Wire.InitRequest.EMPTY);
                host.init(r.home(), r.optsOrEmpty(), r.idMaps());
                yield Wire.Reply.OK;
            }
            case CREATE -> {
                Wire.DriverRequest r = request(endpoint, body);
                driver().create(r.id(), parent(r), new CreateOptions(r.mountLabel(), r.storageOpt()));
                yield Wire.Reply.OK;
            }
            case CREATE_READ_WRITE -> {
                Wire.DriverRequest r = request(endpoint, body);
                driver().createReadWrite(r.id(), parent(r), new CreateOptions(r.mountLabel(), r.storageOpt(), host.maps()));
                yield Wire.Reply.OK;
            }
            case REMOVE -> {
                driver().remove(request(endpoint, body).id());
                yield Wire.Reply.OK;
            }
            case GET -> {
                Wire.DriverRequest r = request(endpoint, body);
                yield Wire.Reply.dir(driver().get(r.id(), r.mountLabel()).toString());
            }
            case PUT -> {
                driver().put(request(endpoint, body).id());
                yield Wire.Reply.OK;
            }
            case EXISTS -> Wire.Reply.exists(driver().exists(request(endpoint, body).id()));
            case STATUS -> {
                request(endpoint, body);
                StorageDriver d = driver();
                List<StatusEntry> status = new ArrayList<>();
                // dockerd prints "Storage Driver: <plugin name>"; say which Strata driver serves it.
                status.add(new StatusEntry("Strata Driver", d.name()));
                status.addAll(d.status());
                yield Wire.Reply.status(status);
            }
            case GET_METADATA -> Wire.Reply.metadata(new LinkedHashMap<>(driver().metadata(request(endpoint, body).id())));
            case CLEANUP -> {
                request(endpoint, body);
                driver().cleanup();
                yield Wire.Reply.OK;
            }
            case CAPABILITIES -> {
                request(endpoint, body);
                // No driver reproduces the applied tar byte for byte, so dockerd keeps its tar-split data.
                yield Wire.Reply.capabilities(false);
            }
            case CHANGES -> {
                Wire.DriverRequest r = request(endpoint, body);
                yield Wire.Reply.changes(driver().changes(r.id(), parent(r)));
            }
            case DIFF_SIZE -> {
                Wire.DriverRequest r = request(endpoint, body);
                yield Wire.Reply.size(driver().diffSize(r.id(), parent(r)));
            }
            case DIFF, APPLY_DIFF -> throw new IllegalArgumentException(endpoint + " is a streaming endpoint");
        };
    }

    /** Diff: the tar of what {@code ID} changed against {@code Parent}. The caller closes the stream. */
    InputStream diff(byte[] body) {
        Wire.DriverRequest r = request(Endpoint.DIFF, body);
        return driver().diff(r.id(), parent(r));
    }

    /**
     * ApplyDiff: {@code query} is the raw query string, {@code id=<id>&parent=<parent>}, which dockerd builds with
     * Sprintf and does not URL-escape.
     */
    Wire.Reply applyDiff(String query, InputStream tar) {
        Map<String, String> q = parseQuery(query);
        String parent = q.get("parent");
        return Wire.Reply.size(driver().applyDiff(q.get("id"), parent == null || parent.isEmpty() ? null : parent, tar));
    }

    private StorageDriver driver() {
        return host.driver();
    }

    private static String parent(Wire.DriverRequest r) {
        return r.parent() == null || r.parent().isEmpty() ? null : r.parent();
    }

    private static Wire.DriverRequest request(Endpoint endpoint, byte[] body) {
        return parse(endpoint, body, Wire.DRIVER_REQUEST, Wire.DriverRequest.EMPTY);
    }

    /** An empty body (or JSON null) is the zero value, as Go's omitempty makes it for a request with no fields. */
    private static <T> T parse(Endpoint endpoint, byte[] body, ObjectReader reader, T empty) {
        if (isBlank(body)) return empty;
        try {
            T value = reader.readValue(body);
            return value == null ? empty : value;
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new BadRequestException(400, "malformed JSON in the " + endpoint.method() + " request" + where
                    + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadRequestException(400, "unreadable " + endpoint.method() + " request: " + e.getMessage());
        }
    }

    /** JSON's whitespace only (what Go's decoder skips), without decoding the body into a String first. */
    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return false;
        }
        return true;
    }

    /**
     * Splits {@code a=1&b=2}. Values are taken as sent, except that valid {@code %XX} escapes are decoded (for
     * clients that do escape); {@code +} stays a plus, since dockerd does not escape and ids never hold spaces.
     */
    static Map<String, String> parseQuery(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query == null || query.isEmpty()) return out;
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            out.putIfAbsent(percentDecode(key), percentDecode(value));
        }
        return out;
    }

    private static String percentDecode(String s) {
        if (s.indexOf('%') < 0) return s;
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                out.write(hex(in[i + 1]) << 4 | hex(in[i + 2]));
                i += 2;
            } else {
                out.write(in[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hex(byte b) {
        return Character.digit(b, 16);
    }
}
