package dev.strata.conformance;

import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.Arrays;
import java.util.List;

/**
 * The whole suite for a driver named at launch time, through the JUnit configuration parameters
 * {@value #DRIVER_PARAMETER} and {@value #OPTIONS_PARAMETER} (driver options, one {@code key=value} a line).
 * {@link ConformanceRunner} launches it once per driver.
 */
@ExtendWith(RegistryConformanceTest.ConfiguredDriver.class)
public class RegistryConformanceTest extends ConformanceSuite {
    public static final String DRIVER_PARAMETER = "strata.conformance.driver";
    public static final String OPTIONS_PARAMETER = "strata.conformance.options";

    public RegistryConformanceTest(Selection selection) {
        super(selection.driver(), selection.options());
    }

    /** The driver and options named by the configuration parameters. */
    public record Selection(String driver, List<String> options) {
    }

    /** Resolves the constructor's {@link Selection} from the launcher's configuration parameters. */
    public static final class ConfiguredDriver implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
            return p.getParameter().getType() == Selection.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext c) {
            String driver = c.getConfigurationParameter(DRIVER_PARAMETER).orElseThrow(() -> new ParameterResolutionException(
                    "no driver named: set the JUnit configuration parameter " + DRIVER_PARAMETER + " (e.g. vfs)"));
            List<String> options = c.getConfigurationParameter(OPTIONS_PARAMETER)
                    .map(s -> Arrays.stream(s.split("\n")).map(String::strip).filter(x -> !x.isEmpty()).toList())
                    .orElse(List.of());
            return new Selection(driver.strip(), options);
        }
    }
}
