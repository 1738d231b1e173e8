package dev.strata.kernellab;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A JDK AOT cache for the guest's JVM, recorded on the host by a training run and reused while the JDK, the class
 * path and the JVM options stay the same. Under TCG a JVM's class loading and linking cost ~15 times what they
 * cost here: the cache roughly halves the time from boot to the first test.
 *
 * <p>The cache must not hold machine code compiled for this CPU: the guest's emulated CPU lacks AVX and dies of
 * SIGILL in a cached adapter. {@link #PORTABLE} keeps adapters and stubs out of it, in training and in use.
 */
final class GuestJvmCache {
    static final List<String> PORTABLE = List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:-AOTAdapterCaching", "-XX:-AOTStubCaching");
    /** In a training argument: the training run's own temporary directory. */
    static final String SCRATCH = "{training-scratch}";
    private static final Path UNSHARE = Path.of("/usr/bin/unshare");
    private static final Duration TRAINING_TIMEOUT = Duration.ofMinutes(3);

    private final Path directory;

    GuestJvmCache(Path directory) {
        this.directory = directory;
    }

    /**
     * Under the user's cache directory ($XDG_CACHE_HOME, else ~/.cache), not a shared /tmp where another user
     * could plant a cache for root's JVM to map. Caches are large (~30 MB): only the newest is kept.
     */
    static GuestJvmCache standard() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return new GuestJvmCache(base.resolve("strata").resolve("lab-aot"));
    }

    /**
     * The JVM options that use a cache for {@code classPath} and {@code jvmOptions}, recording it first (running
     * {@code mainClass trainingArgs} here) when there is none yet. Empty when the class path has a directory on it
     * (the JDK caches jars only) or the training run fails; {@code note} hears why.
     */
    Optional<List<String>> options(String classPath, List<String> jvmOptions, String mainClass, List<String> trainingArgs,
                                   Consumer<String> note) {
        for (String e : classPath.split(File.pathSeparator)) {
            if (!e.endsWith(".jar")) return Optional.empty();
        }
        Path cache = directory.resolve(key(classPath, jvmOptions) + ".aot");
        if (!Files.isRegularFile(cache) && !record(cache, classPath, jvmOptions, mainClass, trainingArgs, note)) return Optional.empty();
        List<String> use = new ArrayList<>(PORTABLE);
        // Mapped where it was recorded rather than relocated: relocating every pointer costs 0.6 s under TCG.
        use.addAll(List.of("-XX:AOTCache=" + cache, "-XX:ArchiveRelocationMode=0", "-Xlog:aot=off", "-Xlog:cds=off"));
        return Optional.of(use);
    }

    private boolean record(Path cache, String classPath, List<String> jvmOptions, String mainClass, List<String> trainingArgs,
                           Consumer<String> note) {
        Path scratch = null;
        Path partial = cache.resolveSibling(cache.getFileName() + ".part");
        try {
            Files.createDirectories(directory);
            scratch = Files.createTempDirectory("strata-lab-aot-training-");
            note.accept("recording an AOT cache for the guest's JVM (once per build)");
            List<String> cmd = new ArrayList<>();
            // As root, in a mount namespace of its own: whatever the training run mounts cannot outlive it, even killed.
            if (isRoot() && Files.isExecutable(UNSHARE)) cmd.addAll(List.of(UNSHARE.toString(), "--mount", "--propagation", "private"));
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-XX:-UsePerfData", "-Djava.io.tmpdir=" + scratch));
            cmd.addAll(jvmOptions);
            cmd.addAll(PORTABLE);
            cmd.addAll(List.of("-XX:AOTCacheOutput=" + partial, "-Xlog:aot=off", "-Xlog:cds=off", "-cp", classPath, mainClass));
            for (String a : trainingArgs) cmd.add(a.replace(SCRATCH, scratch.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(scratch.resolve("training.log").toFile());
            pb.environment().put("TMPDIR", scratch.toString());
            Process p = pb.start();
            if (!p.waitFor(TRAINING_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                note.accept("AOT training run timed out after " + TRAINING_TIMEOUT.toSeconds() + " s; the guest's JVM starts without a cache");
                return false;
            }
            if (p.exitValue() != 0 || !Files.isRegularFile(partial)) {
                note.accept("AOT training run exited " + p.exitValue() + "; the guest's JVM starts without a cache. Its output ends: "
                        + tail(scratch.resolve("training.log")));
                return false;
            }
            try (var old = Files.list(directory)) {
                for (Path f : old.filter(f -> f.toString().endsWith(".aot")).toList()) Files.deleteIfExists(f);
            }
            Files.move(partial, cache, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            note.accept("cannot record an AOT cache in " + directory + ": " + e.getMessage() + "; the guest's JVM starts without one");
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // a leftover .part is replaced by the next training run
            }
            if (scratch != null) deleteTree(scratch);
        }
    }

    /** The JDK, each jar's name, size and time, and the options: what the JVM checks before it maps a cache. */
    static String key(String classPath, List<String> jvmOptions) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            StringBuilder s = new StringBuilder(System.getProperty("java.home")).append('\n').append(Runtime.version()).append('\n');
            for (String e : classPath.split(File.pathSeparator)) {
                Path jar = Path.of(e).toAbsolutePath();
                s.append(jar).append(' ').append(Files.size(jar)).append(' ').append(Files.getLastModifiedTime(jar).toMillis()).append('\n');
            }
            jvmOptions.forEach(o -> s.append(o).append('\n'));
            return HexFormat.of().formatHex(sha.digest(s.toString().getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (IOException e) {
            return "unreadable-" + Integer.toHexString(classPath.hashCode());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temporary directory: left to the system's cleaner
        }
    }
}
