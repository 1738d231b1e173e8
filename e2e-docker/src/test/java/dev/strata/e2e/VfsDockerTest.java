package dev.strata.e2e;

/** The scenario on Strata's vfs driver. */
class VfsDockerTest extends DockerScenario {
    VfsDockerTest() {
        super("vfs");
    }
}
