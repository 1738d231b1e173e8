package dev.strata.conformance;

import dev.strata.conformance.RunReport.CaseResult;
import dev.strata.conformance.RunReport.Status;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Collects what the launcher reports into {@link CaseResult}s named by display name: a test method by its own,
 * a dynamic test as {@code "factory / case"}, and the test class itself as {@value #SUITE}. Containers are
 * recorded only when they did not succeed (their tests then never report).
 */
final class ResultCollector implements TestExecutionListener {
    static final String SUITE = "(suite)";
    private final String driver;
    private final PrintWriter progress;
    private final Map<String, Long> started = new ConcurrentHashMap<>();
    private final List<CaseResult> results = new ArrayList<>();
    private TestPlan plan;

    ResultCollector(String driver, PrintWriter progress) {
        this.driver = driver;
        this.progress = progress;
    }

    List<CaseResult> results() {
        return List.copyOf(results);
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        this.plan = testPlan;
    }

    @Override
    public void executionStarted(TestIdentifier id) {
        started.put(id.getUniqueId(), System.nanoTime());
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
        if (label(id) == null) return;
        record(id, Status.SKIPPED, reason);
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (label(id) == null) return;
        Status status = switch (result.getStatus()) {
            case SUCCESSFUL -> Status.PASS;
            case ABORTED -> Status.SKIPPED;
            case FAILED -> Status.FAIL;
        };
        if (!id.isTest() && status == Status.PASS) return;
        record(id, status, result.getThrowable().map(ResultCollector::describe).orElse(null));
    }

    private synchronized void record(TestIdentifier id, Status status, String message) {
        Long t0 = started.get(id.getUniqueId());
        long ms = t0 == null ? 0 : (System.nanoTime() - t0) / 1_000_000;
        CaseResult r = new CaseResult(label(id), status, message, ms);
        results.add(r);
        if (progress != null) {
            progress.printf("  %-8s %-7s %s (%d ms)%s%n", driver, status.name().toLowerCase(), r.test(), ms,
                    status == Status.PASS || message == null ? "" : ": " + message.lines().findFirst().orElse(""));
            progress.flush();
        }
    }

    /** The row name of a test or container, or null for the engine. */
    private String label(TestIdentifier id) {
        if (id.getParentId().isEmpty()) return null; // the engine
        if (id.getSource().filter(ClassSource.class::isInstance).isPresent()) return SUITE;
        List<String> names = new ArrayList<>();
        TestIdentifier cur = id;
        while (cur != null && cur.getSource().filter(ClassSource.class::isInstance).isEmpty() && cur.getParentId().isPresent()) {
            names.addFirst(cur.getDisplayName());
            cur = plan.getParent(cur).orElse(null);
        }
        return String.join(" / ", names);
    }

    static String describe(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) m = t.getClass().getName();
        else if (!(t instanceof AssertionError) && !(t instanceof org.opentest4j.TestAbortedException)) {
            m = t.getClass().getSimpleName() + ": " + m;
        }
        if (m.startsWith("Assumption failed: ")) m = m.substring("Assumption failed: ".length());
        return m;
    }
}
