package dev.strata.conformance;

/** The suite against a driver that leaks mounts; launched by {@link RunnerTest}, not by surefire (no Test suffix). */
class LeakyDriverSuite extends ConformanceSuite {
    LeakyDriverSuite() {
        super("leaky");
    }
}
