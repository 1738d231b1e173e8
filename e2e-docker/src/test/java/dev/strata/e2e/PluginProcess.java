package dev.strata.e2e;

import dev.strata.testsupport.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real plugin: {@code java -cp <this module's test class path> dev.strata.cli.Main plugin serve}, as a child
 * process, logging every request ({@code --debug}) to a file.
 */
final class PluginProcess implements AutoCloseable {
    static final Path PLUGIN_DIR = Path.of("/run/docker/plugins");

    final String name;
    final Path socket;
    final Path log;
    private final Process process;

    private PluginProcess(String name, Path socket, Path log, Process process) {
        this.name = name;
        this.socket = socket;
        this.log = log;
        this.process = process;
    }

    /** Starts serving {@code driver} as plugin {@code name} (socket /run/docker/plugins/NAME.sock); does not wait. */
    static PluginProcess launch(String name, String driver, Path log, List<String> options) throws IOException {
        Path socket = PLUGIN_DIR.resolve(name + ".sock");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-cp", classPath, "dev.strata.cli.Main", "plugin", "serve", "--debug", "--socket", socket.toString(), "-s", driver));
        for (String o : options) cmd.addAll(List.of("-o", o));
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return new PluginProcess(name, socket, log, p);
    }

    static PluginProcess start(String name, String driver, Path log, List<String> options) throws IOException {
        PluginProcess p = launch(name, driver, log, options);
        p.awaitSocket(30);
        return p;
    }

    void awaitSocket(int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!Files.exists(socket)) {
            if (!process.isAlive()) throw new AssertionError("the plugin exited " + process.exitValue() + ":\n" + Host.tail(log, 40));
            if (System.nanoTime() > deadline) throw new AssertionError("no plugin socket after " + seconds + " s:\n" + Host.tail(log, 40));
            Host.sleep(20);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGTERM, as systemd stops it; returns the exit code (143 when the JVM ends on the signal). */
    int stop() {
        if (!process.isAlive()) return process.exitValue();
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the plugin did not stop within 30 s of SIGTERM:\n" + Host.tail(log, 40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new AssertionError("interrupted", e);
        }
        return process.exitValue();
    }

    String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
