package dev.strata.driver.vfs;

import dev.strata.conformance.ConformanceSuite;

/** The shared conformance suite against vfs. */
class VfsConformanceTest extends ConformanceSuite {
    VfsConformanceTest() {
        super("vfs");
    }
}
