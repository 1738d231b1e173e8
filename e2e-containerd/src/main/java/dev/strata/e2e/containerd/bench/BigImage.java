package dev.strata.e2e.containerd.bench;

import dev.strata.e2e.containerd.LayerTar;
import dev.strata.e2e.containerd.OciArchive;
import dev.strata.e2e.containerd.TestImages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The unpack benchmark's image: busybox at the bottom, then layers of about {@code layerMb} MB each, of which
 * two thirds are 4 MiB files and one third 4 KiB files, 100 to a directory (what an application image's layers
 * hold: a few big files and many small ones). Contents are pseudo-random (incompressible) and the same every
 * time, so the archive is built once and kept.
 */
final class BigImage {
    static final int BIG = 4 << 20;
    static final int SMALL = 4 << 10;

    private BigImage() {
    }

    /** The archive of {@code layers} layers (busybox counted) in {@code dir}, built if it is not there yet. */
    static Path archive(Path dir, String name, int layers, int layerMb) {
        Path archive = dir.resolve("big-" + layers + "x" + layerMb + "mb.oci.tar");
        if (Files.exists(archive)) return archive;
        try {
            Files.createDirectories(dir);
            List<LayerTar.Blob> blobs = new ArrayList<>();
            blobs.add(TestImages.busyboxLayer(dir.resolve("layer-0.tar")));
            for (int i = 1; i < layers; i++) blobs.add(layer(dir.resolve("layer-" + i + ".tar"), i, layerMb));
            Path partial = dir.resolve(archive.getFileName() + ".partial");
            OciArchive.write(new OciArchive.Image(name, blobs, List.of("/bin/sh")), partial);
            Files.move(partial, archive);
            for (LayerTar.Blob b : blobs) Files.delete(b.file());
            return archive;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the benchmark image in " + dir, e);
        }
    }

    private static LayerTar.Blob layer(Path file, int index, int layerMb) {
        long bytes = (long) layerMb << 20;
        int bigFiles = (int) (bytes * 2 / 3 / BIG);
        int smallFiles = (int) ((bytes - (long) bigFiles * BIG) / SMALL);
        SplittableRandom random = new SplittableRandom(index);
        byte[] big = new byte[BIG];
        byte[] small = new byte[SMALL];
        try (LayerTar t = new LayerTar(file)) {
            String top = "data/layer" + index;
            t.dir("data", 0755).dir(top, 0755).dir(top + "/big", 0755);
            for (int f = 0; f < bigFiles; f++) {
                random.nextBytes(big);
                t.file(top + "/big/f" + f, 0644, big);
            }
            for (int f = 0; f < smallFiles; f++) {
                if (f % 100 == 0) t.dir(top + "/small" + f / 100, 0755);
                random.nextBytes(small);
                t.file(top + "/small" + f / 100 + "/f" + f, 0644, small);
            }
            return t.finish();
        }
    }
}
