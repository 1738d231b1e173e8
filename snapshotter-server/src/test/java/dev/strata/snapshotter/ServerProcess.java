package dev.strata.snapshotter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A snapshotter in a child JVM ({@link ServeMain}) on this class path, as a daemon runs: to kill and to restart. */
final class ServerProcess implements AutoCloseable {
    final Process process;
    final Path socket;
    final Path log;

    private ServerProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /** Starts one and waits until it serves its socket. */
    static ServerProcess start(String driver, Path root, Path socket, Path log) throws Exception {
        Files.deleteIfExists(socket);
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), ServeMain.class.getName(),
                "-s", driver, "--socket", socket.toString(), "--root", root.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.exists(socket)) {
            if (!p.isAlive()) throw new AssertionError("the snapshotter exited with " + p.exitValue() + " before serving: " + tail(log));
            if (System.nanoTime() > deadline) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("the snapshotter did not serve within 90 s: " + tail(log));
            }
            Thread.sleep(20);
        }
        return new ServerProcess(p, socket, log);
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("the snapshotter did not die after SIGKILL");
    }

    /** SIGTERM; returns the exit status. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("the snapshotter did not stop within 60 s of SIGTERM: " + tail(log));
        }
        return process.exitValue();
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill();
    }
}
