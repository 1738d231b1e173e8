package dev.strata.driver.overlay;

import dev.strata.conformance.ConformanceSuite;

/** The shared conformance suite, run against the overlay driver. */
class OverlayConformanceTest extends ConformanceSuite {
    OverlayConformanceTest() {
        super("overlay");
    }
}
