package dev.strata.e2e;

/** The scenario on Strata's overlay driver. */
class OverlayDockerTest extends DockerScenario {
    OverlayDockerTest() {
        super("overlay");
    }
}
