package dev.strata.archive.tar;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checksum's eight-bytes-at-a-time sum against a plain byte loop, at the extremes and on random blocks. */
class UstarChecksumTest {
    private static long plainSum(byte[] b) {
        long sum = 0;
        for (byte x : b) sum += x & 0xff;
        return sum;
    }

    @Test
    void byteSumIsThePlainUnsignedSum() {
        byte[] b = new byte[Ustar.BLOCK];
        assertEquals(0, Ustar.byteSum(b));
        Arrays.fill(b, (byte) 0xff);
        assertEquals(512 * 255, Ustar.byteSum(b)); // every 16-bit lane at its largest
        Random r = new Random(16);
        for (int i = 0; i < 1000; i++) {
            r.nextBytes(b);
            assertEquals(plainSum(b), Ustar.byteSum(b));
        }
    }

    @Test
    void writtenChecksumIsValidAndCatchesAChangedByte() {
        Random r = new Random(7);
        for (int i = 0; i < 200; i++) {
            byte[] b = new byte[Ustar.BLOCK];
            r.nextBytes(b);
            Ustar u = new Ustar(b).checksum();
            long expected = plainSum(b) - plainSum(Arrays.copyOfRange(b, Ustar.CHKSUM, Ustar.CHKSUM + 8)) + 8 * ' ';
            assertEquals(expected, u.parseNumber(Ustar.CHKSUM, 8));
            assertTrue(u.checksumValid());
            int at = r.nextInt(Ustar.CHKSUM);
            b[at]++;
            assertFalse(u.checksumValid(), "byte " + at + " changed");
        }
    }

    @Test
    void aBlockIsFiveHundredTwelveBytes() {
        assertThrows(IllegalArgumentException.class, () -> new Ustar(new byte[1024]));
    }
}
