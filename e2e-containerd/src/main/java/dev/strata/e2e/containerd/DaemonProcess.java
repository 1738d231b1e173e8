package dev.strata.e2e.containerd;

import dev.strata.testsupport.Host;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A long-running child process (a daemon or a snapshotter) with its output appended to a log file. */
public final class DaemonProcess {
    private final String what;
    private final Path log;
    private final Process process;

    private DaemonProcess(String what, Path log, Process process) {
        this.what = what;
        this.log = log;
        this.process = process;
    }

    /** Starts {@code command} (with {@code env} added to this JVM's environment); does not wait. */
    public static DaemonProcess start(String what, List<String> command, Map<String, String> env, Path log) {
        try {
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().putAll(env);
            return new DaemonProcess(what, log, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + what + ": " + command, e);
        }
    }

    /** Waits until {@code ready}; fails with the log's tail if the process exits first or takes too long. */
    public void awaitReady(int seconds, BooleanSupplier ready) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!ready.getAsBoolean()) {
            if (!process.isAlive()) throw new AssertionError(what + " exited " + process.exitValue() + ":\n" + Host.tail(log, 40));
            if (System.nanoTime() > deadline) throw new AssertionError(what + " not ready after " + seconds + " s:\n" + Host.tail(log, 40));
            Host.sleep(50);
        }
    }

    /** Waits until {@code file} exists (a socket, typically). */
    public void awaitFile(Path file, int seconds) {
        awaitReady(seconds, () -> Files.exists(file));
    }

    /** SIGTERM, as systemd stops a service, and wait; returns the exit code. Fails if it does not stop in time. */
    public int terminate(int seconds) {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                    kill();
                    throw new AssertionError(what + " did not stop within " + seconds + " s of SIGTERM:\n" + Host.tail(log, 40));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        return process.exitValue();
    }

    /** SIGKILL and wait (for clean-up after a failure). */
    public void kill() {
        if (!process.isAlive()) return;
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    public ProcessHandle handle() {
        return process.toHandle();
    }
}
