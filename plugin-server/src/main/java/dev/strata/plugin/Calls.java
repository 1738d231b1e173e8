package dev.strata.plugin;

import java.time.Duration;

/** The driver calls in progress, wherever they run, so that a close can refuse new ones and wait for these. */
final class Calls {
    private int running;
    private boolean closing;

    /** False once closing: the caller answers that the plugin is shutting down. */
    synchronized boolean begin() {
        if (closing) return false;
        running++;
        return true;
    }

    synchronized void end() {
        if (--running == 0) notifyAll();
    }

    /** Refuses new calls from now on and waits up to {@code d} for the running ones; whether none is left. */
    synchronized boolean closeAndAwait(Duration d) {
        closing = true;
        long deadline = System.nanoTime() + d.toNanos();
        while (running > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
