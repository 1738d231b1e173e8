package dev.strata.bench;

import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.WhiteoutFormat;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * One apply or diff in a fresh JVM, the Strata side of {@link ArchiveThroughput}'s "process" comparison (GNU tar is a
 * fresh process too): {@code ArchiveOnce apply TAR DIR}, {@code ArchiveOnce diff DIR} (the tar on stdout).
 */
public final class ArchiveOnce {
    private ArchiveOnce() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "apply" -> {
                try (FileInputStream in = new FileInputStream(args[1])) {
                    LayerArchive.apply(Path.of(args[2]), in, new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true));
                }
            }
            case "diff" -> {
                try (OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 20)) {
                    LayerArchive.writeTree(Path.of(args[1]), out);
                }
            }
            default -> throw new IllegalArgumentException("usage: ArchiveOnce apply TAR DIR | diff DIR");
        }
    }
}
