package dev.strata.driver.overlay;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProducedStreamTest {
    @Test
    void smallAndLentWritesArriveInOrderAndIntact() throws Exception {
        byte[] data = new byte[5 * 1024 * 1024 + 123];
        new Random(7).nextBytes(data);
        AtomicBoolean closed = new AtomicBoolean();
        InputStream in = ProducedStream.start("t", out -> {
            try {
                int off = 0, step = 1;
                byte[] reused = new byte[1 << 20];
                while (off < data.length) {
                    int len = Math.min(Math.min(step, 1 << 20), data.length - off);
                    if (len >= 64 * 1024) {
                        // a writer that reuses its buffer, as the tar writer does: lent bytes must be copied out first
                        System.arraycopy(data, off, reused, 0, len);
                        out.write(reused, 0, len);
                        java.util.Arrays.fill(reused, (byte) 0);
                    } else {
                        out.write(data, off, len);
                    }
                    off += len;
                    step = step >= 1 << 20 ? 1 : step * 7 + 1;
                }
                out.write(0x5a);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, () -> closed.set(true));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[10000];
        for (int n; (n = in.read(buf)) >= 0; ) got.write(buf, 0, n);
        in.close();
        byte[] all = got.toByteArray();
        assertEquals(data.length + 1, all.length);
        assertArrayEquals(data, java.util.Arrays.copyOf(all, data.length));
        assertEquals(0x5a, all[data.length] & 0xff);
        assertTrue(closed.get());
    }

    @Test
    void aProducerFailureReachesTheReader() {
        InputStream in = ProducedStream.start("t", out -> {
            try {
                out.write(new byte[100_000]);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new IllegalStateException("disk on fire");
        }, null);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> in.readAllBytes());
        assertEquals("disk on fire", e.getMessage());
    }

    @Test
    void closingEarlyStopsAnEndlessProducer() throws Exception {
        AtomicBoolean onClose = new AtomicBoolean();
        InputStream in = ProducedStream.start("t", out -> {
            byte[] big = new byte[1 << 20];
            try {
                while (true) out.write(big);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, () -> onClose.set(true));
        assertEquals(1000, in.readNBytes(1000).length);
        in.close();
        assertTrue(onClose.get(), "onClose ran once the producer stopped");
        assertThrows(IOException.class, () -> in.read());
    }
}
