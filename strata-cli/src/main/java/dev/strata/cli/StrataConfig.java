package dev.strata.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The JSON config file, in the spirit of Docker's daemon.json:
 * {@code {"storage-driver": "overlay", "storage-opts": ["overlay.size=10G"], "root": "/var/lib/strata"}}.
 * Unknown keys are refused, so a typo does not silently do nothing; every error names the key and what was
 * expected ({@link ConfigException}).
 */
record StrataConfig(String storageDriver, List<String> storageOpts, String root) {
    static final Path DEFAULT = Path.of("/etc/strata/config.json");
    static final StrataConfig NONE = new StrataConfig(null, List.of(), null);
    private static final List<String> KEYS = List.of("storage-driver", "storage-opts", "root");

    StrataConfig {
        storageOpts = storageOpts == null ? List.of() : List.copyOf(storageOpts);
    }

    /** Reads {@code file}; a missing default file means no config, a missing named file is an error. */
    static StrataConfig load(Path file, boolean explicit) {
        if (!Files.exists(file)) {
            if (explicit) throw new ConfigException(file, "no such file");
            return NONE;
        }
        if (Files.isDirectory(file)) throw new ConfigException(file, "is a directory, not a JSON file");
        JsonNode doc;
        try {
            doc = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            throw new ConfigException(file, "not valid JSON" + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                    + ": " + ErrorText.scrub(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException(file, "cannot read it: " + ErrorText.cause(e, null, ErrorText.Paths.NONE));
        }
        if (doc == null || doc.isMissingNode()) return NONE;
        if (!doc.isObject()) throw new ConfigException(file, "expected a JSON object such as " + example() + ", got " + kind(doc));
        for (Iterator<Map.Entry<String, JsonNode>> it = doc.fields(); it.hasNext(); ) {
            String key = it.next().getKey();
            if (!KEYS.contains(key)) {
                throw new ConfigException(file, "unknown key \"" + key + "\" (keys: " + String.join(", ", KEYS) + ")");
            }
        }
        return new StrataConfig(text(file, doc, "storage-driver", "a driver name such as \"overlay\""),
                list(file, doc.get("storage-opts")), text(file, doc, "root", "a directory such as \"/var/lib/strata\""));
    }

    private static String text(Path file, JsonNode doc, String key, String expected) {
        JsonNode v = doc.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new ConfigException(file, "key \"" + key + "\": expected " + expected + ", got " + kind(v));
        return v.textValue();
    }

    private static List<String> list(Path file, JsonNode v) {
        if (v == null || v.isNull()) return List.of();
        String expected = "a list of \"key=value\" strings such as [\"overlay.size=10G\"]";
        if (!v.isArray()) throw new ConfigException(file, "key \"storage-opts\": expected " + expected + ", got " + kind(v));
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) throw new ConfigException(file, "key \"storage-opts\": expected " + expected + ", got an element that is " + kind(e));
            out.add(e.textValue());
        }
        return out;
    }

    private static String kind(JsonNode v) {
        if (v.isTextual()) return "the string \"" + v.textValue() + "\"";
        if (v.isNumber()) return "the number " + v;
        if (v.isBoolean()) return v.toString();
        if (v.isArray()) return "a list";
        if (v.isObject()) return "an object";
        return v.toString();
    }

    private static String example() {
        return "{\"storage-driver\": \"overlay\", \"storage-opts\": [\"overlay.size=10G\"], \"root\": \"/var/lib/strata\"}";
    }
}
