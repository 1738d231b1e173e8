package dev.strata.plugin;

import io.netty.util.ResourceLeakDetector;

/**
 * Netty's buffer leak detection, off in Strata's servers unless the operator asks for it. At its default level it
 * tracks one buffer in 128 with a stack trace taken at allocation and another at release: a serving thread profiled
 * under containerd's round of calls spent ~5% of its request-path CPU in {@code Throwable.fillInStackTrace} for it.
 * The servers release every buffer through Netty's and gRPC's own codecs; a leak hunt turns it back on with
 * {@code -Dio.netty.leakDetection.level=simple} (or {@code advanced}, {@code paranoid}).
 */
public final class LeakDetection {
    private static final String LEVEL = "io.netty.leakDetection.level";
    /** The property's old name, which Netty still reads. */
    private static final String OLD_LEVEL = "io.netty.leakDetectionLevel";

    private LeakDetection() {
    }

    /** Turns leak detection off for this JVM unless a level was given on the command line. */
    public static void offUnlessAsked() {
        if (System.getProperty(LEVEL) == null && System.getProperty(OLD_LEVEL) == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }
}
