package dev.strata.archive.tar;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stream gets at most {@link TarWriter#SLICE} bytes a write, and the archive is the same whatever the slicing. */
class TarWriterSliceTest {
    @Test
    void aLargeEntryReachesTheStreamInSlicesAndReadsBackWhole() throws Exception {
        byte[] data = new byte[3 * TarWriter.BUFFER + 12_345];
        new Random(7).nextBytes(data);
        int[] largest = {0};
        ByteArrayOutputStream out = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                largest[0] = Math.max(largest[0], len);
                super.write(b, off, len);
            }
        };
        try (TarWriter w = new TarWriter(out)) {
            TarHeader h = new TarHeader();
            h.name = "big";
            h.mode = 0644;
            h.size = data.length;
            w.writeHeader(h);
            int[] at = {0};
            w.writeData((b, off, len) -> { // a file read as the tree writer reads one: up to len bytes a call
                int n = Math.min(len, data.length - at[0]);
                System.arraycopy(data, at[0], b, off, n);
                at[0] += n;
                return n;
            }, data.length);
        }
        assertTrue(largest[0] > 0 && largest[0] <= TarWriter.SLICE, "largest write " + largest[0]);
        TarReader r = new TarReader(new ByteArrayInputStream(out.toByteArray()));
        TarHeader h = r.next();
        assertEquals("big", h.name);
        byte[] back = new byte[data.length];
        for (int got = 0, n; got < back.length; got += n) n = r.read(back, got, back.length - got);
        assertArrayEquals(data, back);
        assertEquals(null, r.next());
    }
}
