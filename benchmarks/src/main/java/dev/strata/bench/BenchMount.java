package dev.strata.bench;

import dev.strata.nativeio.LoopDevice;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.Trees;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A scratch filesystem for a benchmark: a tmpfs, or a fresh ext4 on a sparse loop file mounted nobarrier (as
 * peerbench does, because the VM's root ext4 costs ~0.5 ms per file created). Unmounted with whatever is mounted
 * under it, and deleted, on close or when a signal stops the JVM ({@link Teardown}).
 */
final class BenchMount implements AutoCloseable {
    final Path mount;
    private final Teardown teardown;

    private BenchMount(Path base, Path mount) {
        this.mount = mount;
        this.teardown = Teardown.of(base.toString(), () -> {
            Mounts.unmountAllUnder(base);
            Trees.delete(base);
        });
    }

    /** A tmpfs of {@code size} (mount(8)'s size=) in a new directory of the JVM's temporary directory. */
    static BenchMount tmpfs(String size) throws IOException, InterruptedException {
        return tmpfs(Path.of(System.getProperty("java.io.tmpdir")), size);
    }

    /** A tmpfs of {@code size} in a new directory of {@code parent}. */
    static BenchMount tmpfs(Path parent, String size) throws IOException, InterruptedException {
        return make(Files.createTempDirectory(parent, "strata-bench-"),
                (base, mnt) -> Mounts.mount("strata-bench", mnt, "tmpfs", 0, "size=" + size + ",mode=0755"));
    }

    static BenchMount ext4(long bytes) throws IOException, InterruptedException {
        return make(Files.createTempDirectory("strata-bench-"), (base, mnt) -> {
            Path img = base.resolve("backing.img");
            try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
                f.setLength(bytes);
            }
            Process p = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", img.toString())
                    .inheritIO().start();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("mkfs.ext4 failed");
            try (LoopDevice loop = LoopDevice.attach(img, false, true)) {
                Mounts.mount(loop.device().toString(), mnt, "ext4", 0, "nobarrier");
            }
        });
    }

    private interface Setup {
        void make(Path base, Path mount) throws IOException, InterruptedException;
    }

    /** The mount point {@code base/mnt}, set up; {@code base} goes again if that fails. */
    private static BenchMount make(Path base, Setup setup) throws IOException, InterruptedException {
        BenchMount m = new BenchMount(base, base.resolve("mnt"));
        try {
            Files.createDirectory(m.mount);
            setup.make(base, m.mount);
            return m;
        } catch (IOException | InterruptedException | RuntimeException e) {
            try {
                m.close();
            } catch (Exception again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        teardown.close();
    }
}
