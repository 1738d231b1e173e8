package dev.strata.conformance;

import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs {@link RootlessChild} as the unprivileged user {@code nobody} inside {@code unshare -Urm}: root in a user
 * namespace of its own, with a storage root of its own, twice: with a run directory named by {@code STRATA_RUN_DIR},
 * and with none, where the driver must find {@code $XDG_RUNTIME_DIR} (it is root only inside the namespace). Its class
 * path is copied where that user can read it (a build's class path is usually under root's home).
 */
final class RootlessRun {
    static final int NOBODY = 65534;

    record Result(boolean supported, boolean ok, String output) {
    }

    private RootlessRun() {
    }

    static Result run(String driver, List<String> options, Path testRoot) throws Exception {
        if (!Kernel.isRoot()) return new Result(false, false, "the test drops to nobody from root (running as uid " + Kernel.euid() + ")");
        for (String tool : List.of("/usr/bin/setpriv", "/usr/bin/unshare")) {
            if (!Files.isExecutable(Path.of(tool))) return new Result(false, false, tool + " is missing (util-linux)");
        }
        Path cp = Files.createTempDirectory("strata-rootless-cp");
        try {
            String classPath = copyClassPath(cp);
            Result named = once(driver, options, testRoot.resolve("rootless-named"), classPath, "STRATA_RUN_DIR");
            if (!named.supported() || !named.ok()) return named;
            Result xdg = once(driver, options, testRoot.resolve("rootless-xdg"), classPath, "XDG_RUNTIME_DIR");
            return new Result(xdg.supported(), xdg.ok(), "with STRATA_RUN_DIR: " + named.output() + "\nwith XDG_RUNTIME_DIR: " + xdg.output());
        } finally {
            Trees.delete(cp);
        }
    }

    /** One run, the run directory given by {@code runDirVariable}. */
    private static Result once(String driver, List<String> options, Path dir, String classPath, String runDirVariable) throws Exception {
        Path home = Files.createDirectories(dir.resolve("root"));
        Path run = Files.createDirectories(dir.resolve("run"));
        for (Path p : List.of(dir, home, run)) Files.setAttribute(p, "unix:uid", NOBODY);
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "/usr/bin/unshare", "--user", "--map-root-user", "--mount",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-Djava.io.tmpdir=" + run, "-cp", classPath, RootlessChild.class.getName(), driver, home.toString()));
        cmd.addAll(options);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("HOME", run.toString());
        pb.environment().put(runDirVariable, run.toString());
        Process p = pb.start();
        java.util.concurrent.CompletableFuture<String> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output lost: " + e + ")";
            }
        }, r -> Thread.ofVirtual().start(r));
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            return new Result(true, false, "timed out after 300 s:\n" + output.getNow("(no output)"));
        }
        String out = output.get(30, TimeUnit.SECONDS);
        if (out.contains("unshare failed") || out.contains("unshare: ")) {
            return new Result(false, false, "user namespaces are not available here: " + out.strip());
        }
        if (p.exitValue() == 4 && out.startsWith("UNSUPPORTED ")) return new Result(false, false, out.substring(12).strip());
        boolean used = runDirVariable.equals("STRATA_RUN_DIR") ? hasEntries(run) : hasEntries(run.resolve("strata"));
        return new Result(true, p.exitValue() == 0 && out.strip().endsWith("OK") && used,
                "exit " + p.exitValue() + (used ? "" : ", and nothing was kept in " + run) + ":\n" + out);
    }

    private static boolean hasEntries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    /** Copies every class path entry (jars and class directories) under {@code dir}, readable by anyone. */
    private static String copyClassPath(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path src = Path.of(e);
            if (!Files.exists(src)) continue;
            Path dst = dir.resolve((n++) + "-" + src.getFileName());
            if (Files.isDirectory(src)) {
                try (Stream<Path> s = Files.walk(src)) {
                    for (Path p : s.toList()) {
                        Path t = dst.resolve(src.relativize(p).toString());
                        if (Files.isDirectory(p)) Files.createDirectories(t);
                        else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            } else {
                Files.copy(src, dst);
            }
            entries.add(dst.toString());
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }
}
