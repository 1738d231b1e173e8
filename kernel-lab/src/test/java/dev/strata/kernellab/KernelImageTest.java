package dev.strata.kernellab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class KernelImageTest {
    @TempDir
    Path tmp;

    @Test
    void releaseComesFromTheBootHeader() {
        List<Path> k = KernelLab.installedKernels("vmlinuz-*");
        assumeFalse(k.isEmpty(), "no kernel under /boot (apt-get install linux-image-cloud-amd64)");
        Path p = k.getLast();
        String fromName = p.getFileName().toString().substring("vmlinuz-".length());
        assertEquals(fromName, KernelImage.releaseFromBootHeader(p));
        assertEquals(fromName, KernelImage.of(p).release());
    }

    @Test
    void releaseFallsBackToTheFileName() throws Exception {
        Path p = Files.write(tmp.resolve("vmlinuz-9.9.9-test"), new byte[1024]);
        assertEquals("9.9.9-test", KernelImage.of(p).release());
    }

    @Test
    void aMissingKernelSaysWhatToInstall() {
        var e = assertThrows(KernelLabException.class, () -> KernelImage.of(tmp.resolve("vmlinuz-none")));
        assertTrue(e.getMessage().contains("does not exist") && e.getMessage().contains("linux-image-cloud-amd64"), e.getMessage());
    }
}
