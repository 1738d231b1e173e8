package dev.strata.archive.tar;

import dev.strata.archive.LayerArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stream gets at most {@link Buffers#SLICE} bytes a write, and the archive is the same whatever the slicing. */
class TarWriterSliceTest {
    @TempDir
    Path dir;

    /** A stream that remembers its largest write. */
    private static final class Recording extends ByteArrayOutputStream {
        int largest;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            largest = Math.max(largest, len);
            super.write(b, off, len);
        }
    }

    @Test
    void aLargeEntryReachesTheStreamInSlicesAndReadsBackWhole() throws Exception {
        byte[] data = new byte[3 * Buffers.SIZE + 12_345];
        new Random(7).nextBytes(data);
        Recording out = new Recording();
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
        assertTrue(out.largest > 0 && out.largest <= Buffers.SLICE, "largest write " + out.largest);
        TarReader r = new TarReader(new ByteArrayInputStream(out.toByteArray()));
        assertEquals("big", r.next().name);
        byte[] back = new byte[data.length];
        for (int got = 0, n; got < back.length; got += n) n = r.read(back, got, back.length - got);
        assertArrayEquals(data, back);
        assertNull(r.next());
    }

    @Test
    void aDiffStreamHandsItsBuffersOnInSlices() throws Exception {
        // what `strata diff` does: the driver's tar stream, made on a thread of its own, transferred to stdout
        byte[] data = new byte[3 * Buffers.SIZE];
        new Random(9).nextBytes(data);
        Files.write(dir.resolve("big"), data);
        Recording out = new Recording();
        try (InputStream tar = LayerArchive.tree(dir)) {
            tar.transferTo(out);
        }
        assertTrue(out.largest > 0 && out.largest <= Buffers.SLICE, "largest write " + out.largest);
        assertTrue(out.size() > data.length, "the tar holds the file: " + out.size() + " bytes");
    }
}
