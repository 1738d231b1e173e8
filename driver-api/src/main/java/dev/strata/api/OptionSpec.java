package dev.strata.api;

/** One option key a driver accepts, with a short description for error messages and help. */
public record OptionSpec(String key, Type type, String description) {
    public enum Type { SIZE, BOOLEAN, STRING, INTEGER, PERCENT }

    public static OptionSpec size(String key, String description) {
        return new OptionSpec(key, Type.SIZE, description);
    }

    public static OptionSpec bool(String key, String description) {
        return new OptionSpec(key, Type.BOOLEAN, description);
    }

    public static OptionSpec string(String key, String description) {
        return new OptionSpec(key, Type.STRING, description);
    }

    public static OptionSpec integer(String key, String description) {
        return new OptionSpec(key, Type.INTEGER, description);
    }

    public static OptionSpec percent(String key, String description) {
        return new OptionSpec(key, Type.PERCENT, description);
    }
}
