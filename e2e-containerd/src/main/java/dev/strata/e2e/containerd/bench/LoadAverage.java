package dev.strata.e2e.containerd.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** /proc/loadavg's first three fields, recorded at the start and the end of a benchmark. */
final class LoadAverage {
    private LoadAverage() {
    }

    static String now() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
