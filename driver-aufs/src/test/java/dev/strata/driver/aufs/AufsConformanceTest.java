package dev.strata.driver.aufs;

import dev.strata.conformance.ConformanceSuite;

/**
 * The shared suite, run for aufs. On a kernel without aufs (this VM, every mainline kernel) every case is skipped
 * with the probe's reason; on one with aufs (the kernel lab) it runs unchanged.
 */
class AufsConformanceTest extends ConformanceSuite {
    AufsConformanceTest() {
        super("aufs");
    }
}
