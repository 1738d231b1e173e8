package dev.strata.kernellab;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabConformanceTest {
    @Test
    void aKernelThatIsNotThereIsAUsageError() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = LabConformance.run(Path.of("/nonexistent/vmlinuz-1.0"), null, Duration.ofMinutes(1), List.of("-s", "devmapper"),
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(2, code);
        assertTrue(err.toString().contains("kernel image /nonexistent/vmlinuz-1.0 does not exist"), err.toString());
        assertEquals("", out.toString());
    }

    @Test
    void theGuestLoadsBtrfsOnlyWhenItsSuiteRuns() {
        assertTrue(LabConformance.runsBtrfs(List.of()), "every driver");
        assertTrue(LabConformance.runsBtrfs(List.of("-s", "btrfs")));
        assertTrue(LabConformance.runsBtrfs(List.of("--storage-driver", "vfs,btrfs", "--only", "SetQuota")));
        assertFalse(LabConformance.runsBtrfs(List.of("-s", "devmapper", "--storage-opt", "dm.basesize=1G")));
    }
}
