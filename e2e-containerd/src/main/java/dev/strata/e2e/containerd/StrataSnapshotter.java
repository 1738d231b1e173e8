package dev.strata.e2e.containerd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.cli.Main;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Strata's containerd snapshotter as an operator runs it: {@code strata snapshotter serve --socket S -s DRIVER
 * --root R}, here as {@code java -cp <this class path> dev.strata.cli.Main ...}, a child process logging to a file.
 */
public final class StrataSnapshotter implements Snapshotter {
    public static final String NAME = "strata";

    private final String driver;
    private final Path socket;
    private final Path root;
    private final Path log;
    private final List<String> options;
    private final List<String> jvmOptions;
    private Process process;

    /**
     * @param dir        its socket, root and log go here
     * @param driver     {@code -s}
     * @param options    {@code -o key=value} each
     * @param jvmOptions e.g. {@code -Xmx64m}, as a systemd unit would set them
     */
    public StrataSnapshotter(Path dir, String driver, List<String> options, List<String> jvmOptions) {
        this.driver = driver;
        this.socket = dir.resolve("strata.sock");
        this.root = dir.resolve("strata-root");
        this.log = dir.resolve("snapshotter.log");
        this.options = List.copyOf(options);
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    public StrataSnapshotter(Path dir, String driver) {
        this(dir, driver, List.of(), List.of());
    }

    /** Why Strata's CLI on this class path cannot serve a snapshotter, or null when it can. */
    public static String whyUnavailable() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[]{"snapshotter", "serve", "--help"}, new PrintWriter(out, true), new PrintWriter(err, true));
        // picocli answers --help with 0 even after an unknown command, so look for serve's own option.
        if (code == 0 && out.toString().contains("--socket")) return null;
        return "Strata's CLI has no `snapshotter serve` yet: " + (err.toString() + out).lines().findFirst().orElse("exit " + code);
    }

    public String driver() {
        return driver;
    }

    public Path root() {
        return root;
    }

    public Path log() {
        return log;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Optional<Path> proxySocket() {
        return Optional.of(socket);
    }

    @Override
    public Optional<Path> exportedRoot() {
        return Optional.of(root);
    }

    @Override
    public void start() {
        if (process != null && process.isAlive()) throw new IllegalStateException("the snapshotter already runs");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classPath, "dev.strata.cli.Main", "snapshotter", "serve",
                "--socket", socket.toString(), "-s", driver, "--root", root.toString()));
        for (String o : options) cmd.addAll(List.of("-o", o));
        try {
            Files.createDirectories(log.getParent());
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(socket)) {
            if (!process.isAlive()) throw new AssertionError("the snapshotter exited " + process.exitValue() + ":\n" + Host.tail(log, 40));
            if (System.nanoTime() > deadline) throw new AssertionError("no snapshotter socket after 60 s:\n" + Host.tail(log, 40));
            Host.sleep(20);
        }
    }

    /** SIGTERM and wait; returns the exit code (143 when the JVM ends on the signal). */
    public int terminate() {
        if (process == null) throw new IllegalStateException("not started");
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError("the snapshotter did not stop within 60 s of SIGTERM:\n" + Host.tail(log, 40));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        return process.exitValue();
    }

    @Override
    public void stop() {
        if (process != null) terminate();
    }

    @Override
    public Optional<ProcessHandle> process() {
        return process != null && process.isAlive() ? Optional.of(process.toHandle()) : Optional.empty();
    }

    /** Strata's own listing of the driver's layers under its root ({@code strata --root R -s DRIVER layers}). */
    @Override
    public List<String> stored(Path containerdRoot) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[]{"--root", root.toString(), "-s", driver, "--json", "layers"},
                new PrintWriter(out, true), new PrintWriter(err, true));
        if (code != 0) throw new AssertionError("strata --root " + root + " -s " + driver + " layers exited " + code + ": " + err);
        try {
            List<String> ids = new ArrayList<>();
            for (JsonNode layer : new ObjectMapper().readTree(out.toString())) ids.add(layer.path("id").asText(layer.toString()));
            return ids;
        } catch (IOException e) {
            throw new AssertionError("strata layers printed no JSON: " + out, e);
        }
    }

    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
