package dev.strata.conformance;

import java.util.List;

/**
 * The outcome of a conformance run: one {@link DriverReport} per driver, each case with its status and, when it
 * did not pass, why. This is what {@code --json} prints.
 */
public record RunReport(String kernel, String startedAt, long durationMillis, List<DriverReport> drivers) {
    public enum Status { PASS, FAIL, SKIPPED }

    /** One case (a test, or a container such as the whole suite when it could not start). */
    public record CaseResult(String test, Status status, String message, long durationMillis) {
    }

    public record DriverReport(String driver, List<String> options, long durationMillis, List<CaseResult> results) {
        public long count(Status s) {
            return results.stream().filter(r -> r.status() == s).count();
        }
    }

    public boolean failed() {
        return drivers.stream().anyMatch(d -> d.count(Status.FAIL) > 0);
    }
}
