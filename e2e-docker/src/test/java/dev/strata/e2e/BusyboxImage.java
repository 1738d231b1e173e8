package dev.strata.e2e;

import dev.strata.testsupport.Dockerd;
import dev.strata.testsupport.Host;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/** A busybox image without a registry: a root file system around Debian's static /bin/busybox, docker-imported. */
final class BusyboxImage {
    static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "sleep", "cat", "echo", "ls", "true", "mkdir", "rm", "id", "touch");

    private BusyboxImage() {
    }

    /** Builds the tar in {@code work} and imports it as {@code name}; returns the image id. */
    static String importInto(Dockerd docker, Path work, String name) throws IOException {
        Path rootfs = work.resolve("busybox-rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        for (String d : List.of("etc", "proc", "sys", "dev", "root")) Files.createDirectories(rootfs.resolve(d));
        Files.createDirectories(rootfs.resolve("tmp"));
        Files.setPosixFilePermissions(rootfs.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.copy(BUSYBOX, rootfs.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
        for (String a : APPLETS) {
            Path link = rootfs.resolve("bin").resolve(a);
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.createSymbolicLink(link, Path.of("busybox"));
        }
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        Path tar = work.resolve("busybox.tar");
        Host.run(List.of("tar", "--numeric-owner", "--owner=0", "--group=0", "-C", rootfs.toString(), "-cf", tar.toString(), "."),
                Map.of(), 60).ok("tar of the busybox rootfs");
        return docker.dockerOk("import", tar.toString(), name);
    }
}
