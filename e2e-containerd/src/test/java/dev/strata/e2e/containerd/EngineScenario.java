package dev.strata.e2e.containerd;

import dev.strata.nativeio.Kernel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every engine scenario shares: a workspace of its own (a tmpfs named for the test), the snapshotter started
 * before the engines, steps that build on each other in order, and at the end the proof that nothing is left (no
 * daemon, shim or container process, no mount, no cgroup with tasks).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
abstract class EngineScenario {
    static final Path LOGS = Path.of("target", "e2e-logs");

    final SnapshotterChoice choice;
    private final String name;
    Workspace ws;
    Snapshotter snapshotter;
    private String skipReason;

    EngineScenario(String scenario, SnapshotterChoice choice) {
        this.choice = choice;
        this.name = scenario + "-" + choice.label();
    }

    /** Why the engines of this scenario cannot run here, or null. */
    abstract String whyEnginesMissing();

    /** Starts the engines (the snapshotter already serves). */
    abstract void startEngines() throws Exception;

    /** Removes what the scenario still has running and stops the engines, cleanly (failures are reported). */
    abstract void stopEngines() throws Exception;

    @BeforeAll
    final void setUp() throws Exception {
        skipReason = !Kernel.isRoot() ? "needs root: daemons, mounts" : whyEnginesMissing();
        if (skipReason == null) skipReason = TestImages.whyMissing();
        if (skipReason == null) skipReason = choice.whyUnavailable(Path.of("/tmp"));
        if (skipReason != null) {
            System.err.println(getClass().getSimpleName() + " skipped: " + skipReason);
            return;
        }
        ws = Workspace.create(name, "2g");
        snapshotter = choice.create(ws.dir);
        snapshotter.start();
        startEngines();
    }

    /** Each step is reported as skipped with the reason (surefire drops a reason given in @BeforeAll). */
    @BeforeEach
    final void runnable() {
        assumeTrue(skipReason == null, skipReason);
    }

    @AfterAll
    final void tearDown() throws Exception {
        if (ws == null) return;
        List<String> leaks = new ArrayList<>();
        try {
            stopEngines();
            snapshotter.stop();
        } finally {
            snapshotter.close();
            leaks.addAll(ws.cleanUp(LOGS));
        }
        assertEquals(List.of(), leaks, "left behind after the engines and the snapshotter stopped");
    }
}
