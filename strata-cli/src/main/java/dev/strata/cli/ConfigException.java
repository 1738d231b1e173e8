package dev.strata.cli;

import java.nio.file.Path;

/** The config file cannot be used: it names the file, and the key and what was expected where it can. Exit 2. */
final class ConfigException extends RuntimeException {
    ConfigException(Path file, String why) {
        super("config " + file + ": " + why);
    }
}
