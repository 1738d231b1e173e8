package dev.strata.conformance;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The suite against a driver that leaks mounts. Only {@link RunnerTest} runs it (it sets {@value #LAUNCHED_BY});
 * picked up any other way, e.g. by surefire with a {@code -Dtest=!...} pattern, it is disabled.
 */
@ExtendWith(LeakyDriverSuite.OnlyFromRunnerTest.class)
class LeakyDriverSuite extends ConformanceSuite {
    static final String LAUNCHED_BY = "strata.conformance.selftest";

    LeakyDriverSuite() {
        super("leaky");
    }

    static final class OnlyFromRunnerTest implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(LAUNCHED_BY).isPresent()
                    ? ConditionEvaluationResult.enabled("launched by RunnerTest")
                    : ConditionEvaluationResult.disabled("fails on purpose; only RunnerTest launches it");
        }
    }
}
