package dev.strata.conformance;

import dev.strata.conformance.RunReport.CaseResult;
import dev.strata.conformance.RunReport.DriverReport;
import dev.strata.conformance.RunReport.Status;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MatrixTest {
    private static CaseResult r(String test, Status s, String message) {
        return new CaseResult(test, s, message, 1);
    }

    @Test
    void testsDownDriversAcrossWithNumberedReasons() {
        DriverReport vfs = new DriverReport("vfs", List.of(), 1000, List.of(
                r("moby: CreateEmpty", Status.PASS, null),
                r("moby: SetQuota", Status.SKIPPED, "no quota here"),
                r("hostile / dotdot", Status.PASS, null),
                r("hostile / abs", Status.FAIL, "wrote /etc/passwd\nsecond line")));
        DriverReport aufs = new DriverReport("aufs", List.of(), 10, List.of(
                r("moby: CreateEmpty", Status.SKIPPED, "aufs not in /proc/filesystems"),
                r("moby: SetQuota", Status.SKIPPED, "aufs not in /proc/filesystems"),
                r("hostile", Status.SKIPPED, "aufs not in /proc/filesystems")));
        DriverReport broken = new DriverReport("broken", List.of("broken.x=1"), 5, List.of(
                r(ResultCollector.SUITE, Status.FAIL, "UnknownDriverException: no such driver")));
        RunReport report = new RunReport("6.18", "2026-01-01T00:00:00Z", 1234, List.of(vfs, aufs, broken));
        String m = Matrix.render(report);
        List<String> lines = m.lines().toList();

        assertEquals(List.of("moby: CreateEmpty", "moby: SetQuota", "hostile / dotdot", "hostile / abs"), Matrix.rows(report));
        assertTrue(lines.contains("test               vfs      aufs     broken"), m);
        assertTrue(lines.contains("moby: CreateEmpty  pass     skip[1]  FAIL[2]"), m);
        assertTrue(lines.contains("moby: SetQuota     skip[3]  skip[1]  FAIL[2]"), m);
        assertTrue(lines.contains("hostile / dotdot   pass     skip[1]  FAIL[2]"), m);
        assertTrue(lines.contains("hostile / abs      FAIL[4]  skip[1]  FAIL[2]"), m);
        assertTrue(lines.contains("[3] vfs skipped: no quota here"), m);
        assertTrue(lines.contains("[2] broken FAILED (suite): UnknownDriverException: no such driver"), m);
        assertTrue(lines.contains("[1] aufs skipped: aufs not in /proc/filesystems"), m);
        assertTrue(lines.contains("[4] vfs FAILED hostile / abs: wrote /etc/passwd"), m);
        assertTrue(lines.contains("      second line"), m);
        assertTrue(lines.contains("vfs: 2 passed, 1 failed, 1 skipped in 1.0 s"), m);
        assertTrue(lines.contains("broken: 0 passed, 1 failed, 0 skipped in 0.0 s (options broken.x=1)"), m);
        assertTrue(report.failed());
    }
}
