package dev.strata.e2e.containerd;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Images without a registry: a root file system around Debian's static /bin/busybox (busybox-static). */
public final class TestImages {
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "sleep", "cat", "echo", "ls", "true", "mkdir", "rm", "id", "touch", "env");

    private TestImages() {
    }

    /** Why the images cannot be built here, or null. */
    public static String whyMissing() {
        return Files.isExecutable(BUSYBOX) ? null : BUSYBOX + " is missing (Debian: apt-get install busybox-static)";
    }

    /** The busybox root file system as one layer tar (also what {@code docker import} takes). */
    public static LayerTar.Blob busyboxLayer(Path file) {
        try (LayerTar t = new LayerTar(file)) {
            t.dir("bin", 0755);
            t.file("bin/busybox", 0755, BUSYBOX);
            for (String a : APPLETS) t.symlink("bin/" + a, "busybox");
            for (String d : List.of("dev", "etc", "proc", "root", "sys")) t.dir(d, 0755);
            t.dir("tmp", 01777);
            t.file("etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n".getBytes(StandardCharsets.UTF_8));
            t.file("etc/group", 0644, "root:x:0:\n".getBytes(StandardCharsets.UTF_8));
            return t.finish();
        }
    }

    /** An image archive of busybox named {@code name} (e.g. docker.io/strata-e2e/busybox:1) that runs {@code cmd}. */
    public static Path busybox(Path dir, String name, List<String> cmd) {
        LayerTar.Blob layer = busyboxLayer(dir.resolve("busybox-layer.tar"));
        Path archive = dir.resolve(name.replaceAll("[^A-Za-z0-9.-]", "_") + ".oci.tar");
        OciArchive.write(new OciArchive.Image(name, List.of(layer), cmd), archive);
        return archive;
    }

    /** The pod sandbox ("pause") image for CRI: busybox sleeping until it is killed. */
    public static Path pause(Path dir, String name) {
        return busybox(dir, name, List.of("/bin/sleep", "2147483647"));
    }
}
