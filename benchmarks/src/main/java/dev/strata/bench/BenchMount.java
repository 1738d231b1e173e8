package dev.strata.bench;

import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A scratch filesystem for a benchmark: a tmpfs, or a fresh ext4 on a sparse loop file mounted nobarrier (as
 * peerbench does, because the VM's root ext4 costs ~0.5 ms per file created). Unmounted and deleted on close.
 */
final class BenchMount implements AutoCloseable {
    final Path mount;
    private final Path base;

    private BenchMount(Path base, Path mount) {
        this.base = base;
        this.mount = mount;
    }

    static BenchMount tmpfs(String size) throws IOException {
        Path base = Files.createTempDirectory("strata-bench-");
        Path mnt = Files.createDirectory(base.resolve("mnt"));
        Mounts.mount("strata-bench", mnt, "tmpfs", 0, "size=" + size);
        return new BenchMount(base, mnt);
    }

    static BenchMount ext4(long bytes) throws IOException, InterruptedException {
        Path base = Files.createTempDirectory("strata-bench-");
        Path img = base.resolve("backing.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(bytes);
        }
        Process p = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", img.toString())
                .inheritIO().start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("mkfs.ext4 failed");
        Path mnt = Files.createDirectory(base.resolve("mnt"));
        try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
            Mounts.mount(loop.device().toString(), mnt, "ext4", 0, "nobarrier");
        }
        return new BenchMount(base, mnt);
    }

    @Override
    public void close() throws IOException {
        Mounts.unmountAllUnder(mount);
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
