package dev.strata.archive;

import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.Stat;
import dev.strata.nativeio.Xattrs;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Test trees and the external tools that judge them (getfattr, stat, cmp, GNU tar). */
final class TreeTools {
    static final String LONG_PATH = "d".repeat(100) + "/" + "n".repeat(199); // 300 characters

    private TreeTools() {
    }

    /** Runs a command; returns stdout; fails the test with stderr when it exits non-zero. */
    static String run(Path dir, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir == null ? null : dir.toFile()).redirectErrorStream(false).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            int rc = p.waitFor();
            if (rc != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + rc + ": " + new String(err, StandardCharsets.UTF_8));
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void assumeTool(String tool) {
        boolean found = false;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin:/usr/sbin:/sbin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) found = true;
        }
        for (String d : new String[]{"/usr/sbin", "/sbin"}) if (Files.isExecutable(Path.of(d, tool))) found = true;
        Assumptions.assumeTrue(found, tool + " is not installed");
    }

    /**
     * The acceptance tree of issue 3: a binary with a real security.capability (setcap cap_net_raw+ep), a sparse
     * 1 GiB file, a hardlink pair, a fifo, a char device, a 300-character name, setuid/setgid/sticky modes, uid
     * 3000000, a binary user xattr, a symlink, ns mtimes.
     */
    static void acceptanceTree(Path root) throws IOException {
        assumeTool("setcap");
        Files.createDirectories(root.resolve("bin"));
        Path ping = root.resolve("bin/ping");
        Files.copy(Path.of("/bin/true"), ping);
        run(null, setcap(), "cap_net_raw+ep", ping.toString());
        try (var ch = java.nio.channels.FileChannel.open(root.resolve("sparse"), java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("head".getBytes(StandardCharsets.UTF_8)), 0);
            ch.write(java.nio.ByteBuffer.wrap("middle".getBytes(StandardCharsets.UTF_8)), 512L << 20);
            ch.truncate(1L << 30);
        }
        Files.createDirectories(root.resolve("links"));
        Files.writeString(root.resolve("links/a"), "shared content\n");
        Files.createLink(root.resolve("links/b"), root.resolve("links/a"));
        PosixFiles.mknod(root.resolve("fifo"), Stat.S_IFIFO | 0640, 0);
        PosixFiles.mknod(root.resolve("null"), Stat.S_IFCHR | 0666, PosixFiles.makedev(1, 3));
        Path lp = root.resolve(LONG_PATH);
        Files.createDirectories(lp.getParent());
        Files.writeString(lp, "long\n");
        Path suid = root.resolve("bin/suid");
        Files.writeString(suid, "#!/bin/sh\n");
        PosixFiles.fchmodat(null, suid.toString(), 04755, 0);
        Path sgid = root.resolve("sgid-dir");
        Files.createDirectories(sgid);
        PosixFiles.fchmodat(null, sgid.toString(), 02775, 0);
        Path sticky = root.resolve("tmp");
        Files.createDirectories(sticky);
        PosixFiles.fchmodat(null, sticky.toString(), 01777, 0);
        Path big = root.resolve("big-ids");
        Files.writeString(big, "owned by a large uid\n");
        PosixFiles.fchownat(null, big.toString(), 3_000_000, 3_000_001, 0);
        Xattrs.set(root.resolve("links/a"), "user.binary", new byte[]{(byte) 0xff, 0, (byte) 0xfe, (byte) 0x80, '\n', '='});
        Files.createSymbolicLink(root.resolve("etc-passwd"), Path.of("/etc/passwd"));
        Files.createDirectories(root.resolve("ro"));
        Files.setPosixFilePermissions(root.resolve("ro"), PosixFilePermissions.fromString("r-xr-xr-x"));
        PosixFiles.utimensat(null, root.resolve("links/a").toString(), 0, 1_600_000_000_123_456_789L, 0);
    }

    static String setcap() {
        return Files.isExecutable(Path.of("/usr/sbin/setcap")) ? "/usr/sbin/setcap" : "/sbin/setcap";
    }

    /**
     * Asserts two trees are the same byte for byte: {@code stat -c} (type, mode, owner, size, mtime in ns, device
     * numbers, link count, blocks), {@code getfattr -d -m - -h} and {@code cmp} of every regular file.
     */
    static void assertSameTree(Path expected, Path actual) {
        assumeTool("getfattr");
        assertEquals(stats(expected), stats(actual), "stat -c differs");
        assertEquals(xattrs(expected), xattrs(actual), "getfattr -d -m - -h differs");
        for (String f : run(expected, "find", ".", "-type", "f").split("\n")) {
            if (f.isEmpty()) continue;
            run(null, "cmp", expected.resolve(f).toString(), actual.resolve(f).toString());
        }
    }

    static String stats(Path dir) {
        return run(dir, "sh", "-c", "find . -print0 | sort -z | xargs -0 stat -c '%n|%F|%a|%u|%g|%s|%.9Y|%t,%T|%h|%b'");
    }

    static String xattrs(Path dir) {
        return run(dir, "sh", "-c", "find . -print0 | sort -z | xargs -0 getfattr -d -m - -h -e hex");
    }

    static List<String> lines(String s) {
        List<String> l = new ArrayList<>();
        for (String x : s.split("\n")) if (!x.isEmpty()) l.add(x);
        return l;
    }
}
