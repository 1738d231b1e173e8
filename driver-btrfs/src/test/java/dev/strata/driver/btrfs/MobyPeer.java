package dev.strata.driver.btrfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.abort;

/**
 * moby 20.10's btrfs graphdriver, run through its Go package by {@code benchmarks/peers/moby-btrfs} (built once
 * per source version into Strata's cache by {@code benchmarks/peers/build}). One process per operation: Init, the
 * operation, Cleanup.
 */
final class MobyPeer {
    private final Path binary;
    private final Path root;

    private MobyPeer(Path binary, Path root) {
        this.binary = binary;
        this.root = root;
    }

    /** Builds (or finds) the peer; skips the test with the reason when the Go toolchain or moby's source is missing. */
    static Path build() throws IOException, InterruptedException {
        Path script = repoRoot().resolve("benchmarks/peers/build");
        Process p = new ProcessBuilder(script.toString(), "moby-btrfs").redirectError(ProcessBuilder.Redirect.PIPE).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(10, TimeUnit.MINUTES)) throw new IOException(script + " did not finish in 10 minutes");
        if (p.exitValue() == 3) abort("the moby peer cannot be built here: " + err);
        if (p.exitValue() != 0) throw new IOException(script + " failed (exit " + p.exitValue() + "): " + err);
        return Path.of(out);
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("benchmarks/peers"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("no benchmarks/peers above " + Path.of("").toAbsolutePath());
        return p;
    }

    static MobyPeer at(Path binary, Path root) {
        return new MobyPeer(binary, root);
    }

    /** Runs one operation; returns its standard output, stripped. A failure throws with moby's error. */
    String run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "-root", root.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish in 5 minutes");
        }
        if (p.exitValue() != 0) throw new IOException("moby: " + String.join(" ", args) + ": " + err);
        return out;
    }
}
