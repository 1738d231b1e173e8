package dev.strata.api;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Driver-wide options, parsed from {@code key=value} strings and checked against the keys a driver declares.
 * Keys are case-insensitive, as in Docker. A repeated key keeps every value ({@link #all}); the getters take the
 * last one.
 */
public final class DriverOptions {
    private final String driver;
    private final Map<String, List<String>> values;

    private DriverOptions(String driver, Map<String, List<String>> values) {
        this.driver = driver;
        this.values = values;
    }

    public static DriverOptions none(String driver) {
        return new DriverOptions(driver, Map.of());
    }

    /**
     * Parses and validates. Every key must be one of {@code specs}; every value must parse as its type.
     *
     * @throws InvalidOptionException naming the key and listing the valid ones
     */
    public static DriverOptions parse(String driver, Collection<String> raw, Collection<OptionSpec> specs) {
        Map<String, OptionSpec> byKey = new LinkedHashMap<>();
        for (OptionSpec s : specs) byKey.put(s.key().toLowerCase(Locale.ROOT), s);
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (String kv : raw == null ? List.<String>of() : raw) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new InvalidOptionException(driver, kv, "malformed option \"" + kv + "\" (expected key=value)");
            }
            String key = kv.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String value = kv.substring(eq + 1).trim();
            OptionSpec spec = byKey.get(key);
            if (spec == null) throw InvalidOptionException.unknown(driver, key, byKey.keySet());
            check(driver, spec, key, value);
            values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return new DriverOptions(driver, values);
    }

    private static void check(String driver, OptionSpec spec, String key, String value) {
        try {
            switch (spec.type()) {
                case SIZE -> Sizes.parse(value);
                case BOOLEAN -> parseBool(value);
                case INTEGER -> Long.parseLong(value);
                case PERCENT -> parsePercent(value);
                case STRING -> {
                }
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidOptionException(driver, key, "invalid value for " + key + ": " + e.getMessage());
        }
    }

    static boolean parseBool(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "1", "t", "true", "yes", "on" -> true;
            case "0", "f", "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException("\"" + v + "\" is not a boolean (true or false)");
        };
    }

    static int parsePercent(String v) {
        if (!v.endsWith("%")) throw new IllegalArgumentException("\"" + v + "\" must be a percentage such as 10%");
        int p = Integer.parseInt(v.substring(0, v.length() - 1));
        if (p < 0 || p >= 100) throw new IllegalArgumentException("\"" + v + "\" must be between 0% and 99%");
        return p;
    }

    public String driver() {
        return driver;
    }

    public boolean has(String key) {
        return values.containsKey(key.toLowerCase(Locale.ROOT));
    }

    public Optional<String> string(String key) {
        List<String> v = values.get(key.toLowerCase(Locale.ROOT));
        return v == null ? Optional.empty() : Optional.of(v.getLast());
    }

    public List<String> all(String key) {
        return values.getOrDefault(key.toLowerCase(Locale.ROOT), List.of());
    }

    public Optional<Long> size(String key) {
        return string(key).map(Sizes::parse);
    }

    public Optional<Boolean> bool(String key) {
        return string(key).map(DriverOptions::parseBool);
    }

    public Optional<Long> integer(String key) {
        return string(key).map(Long::parseLong);
    }

    public Optional<Integer> percent(String key) {
        return string(key).map(DriverOptions::parsePercent);
    }

    /** The options back as {@code key=value} strings, in the order given. */
    public List<String> asList() {
        List<String> out = new ArrayList<>();
        values.forEach((k, vs) -> vs.forEach(v -> out.add(k + "=" + v)));
        return out;
    }

    @Override
    public String toString() {
        return asList().toString();
    }
}
