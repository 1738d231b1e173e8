package dev.strata.driver.aufs;

import dev.strata.api.Support;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.StatFs;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Whether aufs can run here. aufs is never in a mainline kernel, so the usual answer is no, and the reason says
 * what was looked at.
 *
 * <p>Loading the module: moby runs {@code modprobe aufs} unconditionally. Here the module tree
 * ({@code /lib/modules/<release>/modules.dep}) is read first, and {@code modprobe} runs only when it lists an aufs
 * module that is not loaded yet. modprobe, not {@code finit_module(2)}, because it resolves the module's
 * dependencies, decompresses it and honours blacklists and options; doing that by hand would be a second
 * modprobe. A kernel without a module tree (this VM) costs two file reads and no process.
 */
final class AufsProbe {
    static final String NESTED = "AUFS cannot be used in non-init user namespace";

    /** Loads a kernel module; returns null on success, else what went wrong. */
    @FunctionalInterface
    interface ModuleLoader {
        String load(String module);
    }

    /** Where the facts come from; tests give their own. */
    record Facts(Path procFilesystems, Path modulesRoot, String release, BooleanSupplier inUserNamespace,
                 ModuleLoader loader, Function<Path, StatFs> statfs) {
        static Facts system() {
            return new Facts(Path.of("/proc/filesystems"), Path.of("/lib/modules"), Kernel.release(),
                    Kernel::inUserNamespace, AufsProbe::modprobe, StatFs::ofNearest);
        }
    }

    private final Facts facts;

    AufsProbe(Facts facts) {
        this.facts = facts;
    }

    Support probe(Path home) {
        if (facts.inUserNamespace().getAsBoolean()) return Support.no(NESTED);
        String missing = kernelLacksAufs();
        if (missing != null) return Support.no("aufs is not in this kernel: " + missing);
        StatFs fs = facts.statfs().apply(home);
        long magic = fs.type() & 0xFFFFFFFFL;
        if (magic == StatFs.AUFS_MAGIC || magic == StatFs.BTRFS_MAGIC || magic == StatFs.ECRYPTFS_MAGIC) {
            return Support.no("AUFS is not supported over " + fs.typeName());
        }
        return Support.yes("aufs in " + facts.procFilesystems() + ", backing filesystem " + fs.typeName());
    }

    /** Null when aufs is (or after loading, becomes) a registered filesystem; else what was checked. */
    private String kernelLacksAufs() {
        if (listsAufs()) return null;
        String notIn = "aufs not in " + facts.procFilesystems();
        Path tree = facts.modulesRoot().resolve(facts.release());
        Optional<String> module;
        try {
            module = findModule(tree);
        } catch (IOException e) {
            return notIn + "; cannot read " + tree + ": " + e.getMessage();
        }
        if (module.isEmpty()) {
            return notIn + "; no aufs module under " + tree + (Files.isDirectory(tree) ? "" : " (no such directory)");
        }
        String error = facts.loader().load("aufs");
        if (error != null) return notIn + "; " + module.get() + " did not load: " + error;
        return listsAufs() ? null : notIn + " even after loading " + module.get();
    }

    private boolean listsAufs() {
        try {
            for (String line : Files.readAllLines(facts.procFilesystems(), StandardCharsets.US_ASCII)) {
                String[] f = line.trim().split("\\s+");
                if (f[f.length - 1].equals("aufs")) return true;
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** The aufs module file under a module tree: from modules.dep when there is one, else by walking the tree. */
    static Optional<String> findModule(Path tree) throws IOException {
        if (!Files.isDirectory(tree)) return Optional.empty();
        Path dep = tree.resolve("modules.dep");
        if (Files.isRegularFile(dep)) {
            try (Stream<String> lines = Files.lines(dep, StandardCharsets.UTF_8)) {
                return lines.map(l -> l.split(":", 2)[0].trim())
                        .filter(p -> isAufsModule(Path.of(p).getFileName().toString()))
                        .findFirst().map(p -> tree.resolve(p).toString());
            }
        }
        try (Stream<Path> files = Files.walk(tree)) {
            return files.filter(p -> isAufsModule(p.getFileName().toString())).findFirst().map(Path::toString);
        }
    }

    private static boolean isAufsModule(String name) {
        return name.equals("aufs.ko") || name.startsWith("aufs.ko.");
    }

    /** {@code modprobe aufs}, the one external call this driver makes (see the class comment). */
    static String modprobe(String module) {
        Optional<Path> exe = onPath("modprobe");
        if (exe.isEmpty()) return "modprobe is not installed";
        try {
            Process p = new ProcessBuilder(exe.get().toString(), module).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "modprobe " + module + " did not finish in 30 s";
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.exitValue() == 0 ? null : "modprobe " + module + " exited " + p.exitValue() + (out.isEmpty() ? "" : ": " + out);
        } catch (IOException e) {
            return "modprobe " + module + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while running modprobe";
        }
    }

    /** An executable on PATH or in the sbin directories (modprobe lives there and PATH may lack them). */
    static Optional<Path> onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        List<String> dirs = new java.util.ArrayList<>(List.of(path.split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin"));
        for (String d : dirs) {
            if (d.isEmpty()) continue;
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }
}
