package dev.strata.conformance;

import java.util.SplittableRandom;

/**
 * Deterministic file content from a seed, filled seven bytes per random value, least significant byte first, as
 * moby's graphtest {@code randomContent} does. The generator is not Go's, so the bytes differ from moby's for
 * the same seed (containers/storage's differ too); only determinism matters here.
 */
final class RandomContent {
    private RandomContent() {
    }

    static byte[] of(int size, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] b = new byte[size];
        for (int i = 0; i < size; i += 7) {
            long v = r.nextLong() >>> 1;
            for (int j = 0; i + j < size && j < 7; j++) {
                b[i + j] = (byte) v;
                v >>>= 8;
            }
        }
        return b;
    }
}
