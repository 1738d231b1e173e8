package dev.strata.plugin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A server on a UNIX socket that a process runs until it is told to stop (the graphdriver plugin, the snapshotter). */
public interface SocketServer extends AutoCloseable {
    Path socket();

    /** Blocks until {@link #close} has finished. */
    void awaitClosed() throws InterruptedException;

    /** Stops gracefully: no new connections, requests in progress finish, then the server's own cleanup. Idempotent. */
    @Override
    void close();

    /** How a server is started: binds its socket, or fails before serving anything. */
    @FunctionalInterface
    interface Start {
        SocketServer start() throws IOException;
    }

    /**
     * Starts a server and serves until the process is told to stop (SIGTERM, SIGINT): a shutdown hook closes it
     * gracefully before the JVM exits, then prints {@code stopped} on stderr. The hook is in place before the socket
     * is bound, so a signal that arrives while the server starts still stops it cleanly (the hook waits for the start).
     */
    static void serveUntilStopped(Start start, String stopped) throws IOException, InterruptedException {
        CompletableFuture<SocketServer> started = new CompletableFuture<>();
        Thread hook = new Thread(() -> {
            SocketServer server;
            try {
                server = started.get(60, TimeUnit.SECONDS);
            } catch (Exception notStarted) {
                return; // the start failed: nothing to stop
            }
            server.close();
            // java.util.logging resets itself in its own shutdown hook, so say it on stderr directly.
            System.err.println(stopped);
        }, "strata-server-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        SocketServer server;
        try {
            server = start.start();
        } catch (IOException | RuntimeException e) {
            started.completeExceptionally(e);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook has seen the failure
            }
            throw e;
        }
        started.complete(server);
        server.awaitClosed();
    }
}
