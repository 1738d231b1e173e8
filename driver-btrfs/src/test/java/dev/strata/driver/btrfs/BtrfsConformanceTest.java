package dev.strata.driver.btrfs;

import dev.strata.conformance.ConformanceSuite;

/** The shared conformance suite against btrfs, on a btrfs the suite makes on a loop file when /tmp is not one. */
class BtrfsConformanceTest extends ConformanceSuite {
    BtrfsConformanceTest() {
        super("btrfs");
    }
}
