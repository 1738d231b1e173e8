package dev.strata.driver.aufs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TarPipeTest {
    @Test
    void bytesArriveInOrderAcrossManyChunks() throws Exception {
        byte[] data = new byte[1_000_003];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31);
        try (InputStream in = TarPipe.start("t", out -> {
            out.write(data, 0, 10);
            out.write(data[10]);
            out.write(data, 11, data.length - 11);
        })) {
            assertArrayEquals(data, in.readAllBytes());
            assertEquals(-1, in.read());
        }
    }

    @Test
    void aWriterFailureReachesTheReader() {
        IOException e = assertThrows(IOException.class, () -> {
            try (InputStream in = TarPipe.start("t", out -> {
                out.write(new byte[100]);
                throw new IllegalStateException("disk on fire");
            })) {
                in.readAllBytes();
            }
        });
        assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
    }

    @Test
    void closingEarlyStopsTheWriter() throws Exception {
        AtomicReference<Throwable> ended = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        InputStream in = TarPipe.start("t", out -> {
            try {
                byte[] chunk = new byte[65536];
                Arrays.fill(chunk, (byte) 1);
                while (true) out.write(chunk); // endless: only a close ends it
            } catch (IOException e) {
                ended.set(e);
                throw e;
            } finally {
                done.countDown();
            }
        });
        assertEquals(1, in.read());
        in.close();
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, ended.get());
        assertThrows(IOException.class, in::read);
    }
}
