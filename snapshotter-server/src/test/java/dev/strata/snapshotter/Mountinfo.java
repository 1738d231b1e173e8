package dev.strata.snapshotter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Mount points in this mount namespace whose path contains a marker: what a test must not leave behind. */
final class Mountinfo {
    private Mountinfo() {
    }

    static List<String> under(String marker) {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")[4])
                    .filter(m -> m.contains(marker)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
