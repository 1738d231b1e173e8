package dev.strata.kernellab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The kernel modules the guest loads, in load order with their dependencies, resolved with
 * {@code modprobe --show-depends} against the guest kernel's module tree (not the host's).
 *
 * @param files   module files to insmod, dependencies first, each once
 * @param builtin requested modules that the kernel has built in
 * @param missing optional modules the tree does not have (the guest runs without them)
 */
public record GuestModules(List<Path> files, List<String> builtin, List<String> missing) {
    /** What the lab cannot run without: the virtio PCI transport and virtiofs for the shared host tree. */
    public static final List<String> REQUIRED = List.of("virtio_pci", "virtiofs");
    /** What the drivers' tests want: loop, dm thin pools and snapshots, overlay (xfs costs 2 s of TCG boot: ask for it, and it loads in the background). */
    public static final List<String> DEFAULT_OPTIONAL = List.of("loop", "dm-thin-pool", "dm-snapshot", "overlay");

    /**
     * Resolves {@code required} (an error if absent) and {@code optional} (skipped if absent) in {@code moduleTree}
     * ({@code .../lib/modules/RELEASE}, with modules.dep made by depmod).
     *
     * @param scratch a directory for a {@code lib/modules/RELEASE} link when the tree is not laid out that way
     */
    public static GuestModules resolve(Path moduleTree, String release, List<String> required, List<String> optional, Path scratch) {
        Path tree = moduleTree.toAbsolutePath().normalize();
        if (!Files.isDirectory(tree)) {
            throw new KernelLabException("no module tree for kernel " + release + " at " + tree
                    + " (install the kernel's package, e.g. linux-image-cloud-amd64, or pass --modules DIR)");
        }
        if (!Files.exists(tree.resolve("modules.dep")) && !Files.exists(tree.resolve("modules.dep.bin"))) {
            throw new KernelLabException("module tree " + tree + " has no modules.dep (run depmod -b BASE " + release + ")");
        }
        Path base = baseFor(tree, release, scratch);
        Map<Path, Boolean> files = new LinkedHashMap<>();
        List<String> builtin = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String m : required) {
            if (!showDepends(base, release, m, files, builtin)) {
                throw new KernelLabException("kernel " + release + " has no module " + m + " in " + tree
                        + " and does not build it in; the lab needs it to share the host tree");
            }
        }
        for (String m : optional) {
            if (!showDepends(base, release, m, files, builtin)) missing.add(m);
        }
        return new GuestModules(List.copyOf(files.keySet()), List.copyOf(builtin), List.copyOf(missing));
    }

    /** These modules less {@code loaded}: what is left to load after them. */
    public GuestModules without(List<Path> loaded) {
        List<Path> rest = new ArrayList<>(files);
        rest.removeAll(loaded);
        return new GuestModules(List.copyOf(rest), builtin, missing);
    }

    /** modprobe wants BASE/lib/modules/RELEASE: use the tree's own base when it is laid out so, else a link. */
    private static Path baseFor(Path tree, String release, Path scratch) {
        Path p = tree.getParent();
        if (tree.getFileName().toString().equals(release) && p != null && p.getFileName() != null
                && p.getFileName().toString().equals("modules") && p.getParent() != null
                && p.getParent().getFileName() != null && p.getParent().getFileName().toString().equals("lib")) {
            Path base = p.getParent().getParent();
            return base == null ? Path.of("/") : base;
        }
        try {
            Path dir = Files.createDirectories(scratch.resolve("modroot/lib/modules"));
            if (!Files.isSymbolicLink(dir.resolve(release))) Files.createSymbolicLink(dir.resolve(release), tree);
            return scratch.resolve("modroot");
        } catch (IOException e) {
            throw new KernelLabException("cannot link module tree " + tree + " under " + scratch + ": " + e);
        }
    }

    private static boolean showDepends(Path base, String release, String module, Map<Path, Boolean> files, List<String> builtin) {
        List<String> cmd = List.of("modprobe", "-d", base.toString(), "-S", release, "--show-depends", module);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new KernelLabException("modprobe --show-depends " + module + " did not finish");
            }
            if (p.exitValue() != 0) return false;
            for (String line : out.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 2 && f[0].equals("insmod")) files.putIfAbsent(Path.of(f[1]), true);
                else if (f.length >= 2 && f[0].equals("builtin")) builtin.add(f[1]);
            }
            return true;
        } catch (IOException e) {
            throw new KernelLabException("cannot run modprobe (install kmod): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KernelLabException("interrupted while resolving modules");
        }
    }
}
