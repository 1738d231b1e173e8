package dev.strata.driver.aufs;

import dev.strata.api.StorageException;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.PosixFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What {@code auplink <mnt> flush} does (moby runs it before every aufs unmount), done in process through aufs's
 * own interface instead of the aufs-util tool.
 *
 * <p>A hardlink whose file was copied up is kept by aufs as a pseudo-link, listed as {@code <ino>.<h_ino>} in the
 * rw branch's {@code .wh..wh.plnk}. Flushing makes the links real: enter pseudo-link maintenance by writing
 * {@code si=<id>} to {@code /proc/fs/aufs/plink_maint}, touch every union file whose inode is listed (a no-op
 * {@code chown(-1,-1)} makes aufs copy it up with its link), write {@code clean}, delete the list, close.
 * Nothing to do when the mount has {@code noplink}. Only a module built without procfs lacks the maintenance
 * file; then {@code auplink} runs if it is installed, as under moby.
 */
final class PseudoLinks {
    static final Path PLINK_MAINT = Path.of("/proc/fs/aufs/plink_maint");
    static final String PLINK_DIR = ".wh..wh.plnk";

    private PseudoLinks() {
    }

    static void flush(Path mountPoint, Path rwBranch) {
        Optional<MountInfo> m = MountInfo.all().stream()
                .filter(i -> i.mountPoint().equals(mountPoint.toString()) && i.fsType().equals("aufs"))
                .reduce((a, b) -> b);
        if (m.isEmpty()) return;
        String options = m.get().options() + "," + m.get().superOptions();
        if (hasOption(options, "noplink")) return;
        if (!Files.exists(PLINK_MAINT)) {
            auplink(mountPoint);
            return;
        }
        String si = siOption(options).orElseThrow(() -> new StorageException("flush pseudo-links", mountPoint.toString(),
                "no si= in its mount options: " + options));
        // aufs admits the maintainer by its task id: every step must run on one OS thread.
        if (Thread.currentThread().isVirtual()) {
            AtomicReference<RuntimeException> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("aufs-plink-flush").start(() -> {
                try {
                    flushOnThisThread(mountPoint, rwBranch, si, PLINK_MAINT);
                } catch (RuntimeException e) {
                    failure.set(e);
                }
            });
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StorageException("flush pseudo-links", mountPoint.toString(), "interrupted", e);
            }
            if (failure.get() != null) throw failure.get();
        } else {
            flushOnThisThread(mountPoint, rwBranch, si, PLINK_MAINT);
        }
    }

    /** The flush proper; {@code maintFile} is a parameter so the steps can be checked against a plain file. */
    static void flushOnThisThread(Path mountPoint, Path rwBranch, String si, Path maintFile) {
        try (FileChannel maint = FileChannel.open(maintFile, StandardOpenOption.WRITE)) {
            maint.write(ByteBuffer.wrap(si.getBytes(StandardCharsets.US_ASCII)));
            Path plinkDir = rwBranch.resolve(PLINK_DIR);
            List<Path> links = new ArrayList<>();
            if (Files.isDirectory(plinkDir, LinkOption.NOFOLLOW_LINKS)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(plinkDir)) {
                    ds.forEach(links::add);
                }
            }
            Set<Long> inodes = inodes(links.stream().map(p -> p.getFileName().toString()).toList());
            if (!inodes.isEmpty()) copyUp(mountPoint, inodes);
            maint.write(ByteBuffer.wrap("clean".getBytes(StandardCharsets.US_ASCII)));
            for (Path l : links) Files.deleteIfExists(l);
        } catch (IOException e) {
            throw new StorageException("flush pseudo-links", mountPoint, e.toString(), e);
        }
    }

    /**
     * A module without {@code /proc/fs/aufs/plink_maint} (built without procfs): run aufs-util's
     * {@code auplink <mnt> flush} as moby does, when it is installed; without it the pseudo-links stay in
     * {@code .wh..wh.plnk}, as they do under moby without aufs-tools.
     */
    private static void auplink(Path mountPoint) {
        Optional<Path> exe = AufsProbe.onPath("auplink");
        if (exe.isEmpty()) return;
        try {
            Process p = new ProcessBuilder(exe.get().toString(), mountPoint.toString(), "flush")
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) {
                throw new StorageException("auplink flush", mountPoint.toString(), "exited " + p.exitValue() + ": " + out);
            }
        } catch (IOException e) {
            throw new StorageException("auplink flush", mountPoint, e.toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("auplink flush", mountPoint, "interrupted", e);
        }
    }

    /** Touches every union file whose aufs inode is pseudo-linked, on the union's own filesystem only. */
    private static void copyUp(Path mountPoint, Set<Long> inodes) throws IOException {
        Files.walkFileTree(mountPoint, new SimpleFileVisitor<>() {
            Object dev;

            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Object d = Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS);
                if (dev == null) dev = d;
                if (!dev.equals(d) || dir.getFileName().toString().equals(PLINK_DIR)) return FileVisitResult.SKIP_SUBTREE;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                long ino = (Long) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
                if (inodes.contains(ino)) PosixFiles.fchownat(null, file.toString(), -1, -1, PosixFiles.AT_SYMLINK_NOFOLLOW);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                return FileVisitResult.CONTINUE; // auplink's nftw ignores what it cannot read, too
            }
        });
    }

    /** The aufs inode numbers of pseudo-link names {@code <ino>.<h_ino>}; names of another form are skipped. */
    static Set<Long> inodes(List<String> names) {
        Set<Long> out = new HashSet<>();
        for (String n : names) {
            int dot = n.indexOf('.');
            if (dot <= 0) continue;
            try {
                out.add(Long.parseUnsignedLong(n.substring(0, dot)));
            } catch (NumberFormatException ignored) {
                // not a pseudo-link
            }
        }
        return out;
    }

    /** The {@code si=<hex>} token of an aufs mount's options, as the maintenance file wants it. */
    static Optional<String> siOption(String options) {
        for (String o : options.split(",")) if (o.startsWith("si=") && o.length() > 3) return Optional.of(o);
        return Optional.empty();
    }

    static boolean hasOption(String options, String name) {
        for (String o : options.split(",")) if (o.equals(name)) return true;
        return false;
    }
}
