package dev.strata.e2e.containerd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.cli.Main;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Strata's containerd snapshotter as an operator runs it: {@code strata snapshotter serve --socket S -s DRIVER
 * --root R}, here as {@code java -cp <this class path> dev.strata.cli.Main ...}, a child process logging to a file.
 */
public final class StrataSnapshotter extends ProxySnapshotter {
    public static final String NAME = "strata";

    private final String driver;
    private final List<String> options;
    private final List<String> jvmOptions;
    private List<String> capabilities = List.of("remap-ids");

    /**
     * @param dir        its socket, root and log go here
     * @param driver     {@code -s}
     * @param options    {@code -o key=value} each
     * @param jvmOptions e.g. {@code -Xmx64m}, as a systemd unit would set them
     */
    public StrataSnapshotter(Path dir, String driver, List<String> options, List<String> jvmOptions) {
        super(dir, "strata");
        this.driver = driver;
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

    /**
     * Strata honours containerd's uidmapping/gidmapping labels with every driver that can show id maps (overlay,
     * vfs), so containerd's config grants {@code remap-ids} unless a test says otherwise ({@link #grant}).
     */
    @Override
    public List<String> capabilities() {
        return capabilities;
    }

    /** What containerd's config is to grant instead: e.g. none, as a config written before remap-ids was. */
    public StrataSnapshotter grant(List<String> capabilities) {
        this.capabilities = List.copyOf(capabilities);
        return this;
    }

    public String driver() {
        return driver;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    protected List<String> command() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classPath, "dev.strata.cli.Main", "snapshotter", "serve",
                "--socket", socket.toString(), "-s", driver, "--root", root.toString()));
        for (String o : options) cmd.addAll(List.of("-o", o));
        return cmd;
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
}
