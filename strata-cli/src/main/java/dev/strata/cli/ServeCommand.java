package dev.strata.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What {@code plugin serve} and {@code snapshotter serve} share: the socket to serve on, whose default each command
 * names, logging set up for a service run by systemd, and the grace a stop gives the calls in progress.
 */
abstract class ServeCommand extends CliCommand {
    /**
     * How long a stopping server lets the calls in progress finish: the packaged units' TimeoutStopSec=60 must also
     * cover the driver's cleanup after it.
     */
    static final Duration STOP_GRACE = Duration.ofSeconds(20);
    /** Keeps the configured loggers from being collected (j.u.l holds them weakly). */
    private static final List<Logger> LOGGERS = new ArrayList<>();

    @Option(names = "--socket", paramLabel = "PATH", description = "Socket to serve on (default: ${DEFAULT-VALUE}).")
    Path socket;

    /** picocli shows the field's value when the command is made as its default. */
    ServeCommand(Path defaultSocket) {
        socket = defaultSocket;
    }

    /**
     * One line a record, {@code strata NAME: LEVEL: message}, fit for journald, which adds its own time stamps. With
     * {@code debug}, {@code logger} logs every call (FINE).
     */
    static void configureLogging(String name, String logger, boolean debug) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "strata " + name + ": %4$s: %5$s%6$s%n");
        }
        Logger own = Logger.getLogger(logger);
        LOGGERS.add(own);
        if (debug) {
            own.setLevel(Level.FINE);
            ConsoleHandler handler = new ConsoleHandler();
            handler.setLevel(Level.FINE);
            own.addHandler(handler);
            own.setUseParentHandlers(false);
        }
    }
}
