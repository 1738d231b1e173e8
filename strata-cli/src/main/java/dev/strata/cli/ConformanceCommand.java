package dev.strata.cli;

import dev.strata.conformance.ConformanceRunner;
import dev.strata.kernellab.LabConformance;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code strata conformance}: the shared conformance suite against this kernel, through the JUnit Platform
 * launcher ({@link ConformanceRunner}). Prints a matrix, tests down and drivers across; exit status 0 when
 * nothing failed.
 */
@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = {"Run the conformance suite for each driver against this kernel and print a matrix: "
                + "tests down, drivers across, each cell pass, FAIL or skip with its reason.",
                "Drivers: -s NAME (comma-separated) and/or NAME arguments; none means every driver found."})
final class ConformanceCommand extends CliCommand {
    @Parameters(paramLabel = "NAME", arity = "0..*", description = "More drivers to run (as with -s).")
    List<String> names = new ArrayList<>();

    @Option(names = "--report", paramLabel = "FILE",
            description = "Also write the report to FILE: JSON with --json or a .json name, else the matrix.")
    Path report;

    @Option(names = "--scratch", paramLabel = "DIR",
            description = "Where the suite mounts its scratch tmpfs (default: /tmp).")
    Path scratch;

    @Option(names = "--only", paramLabel = "TEXT",
            description = "Run only the tests whose name contains TEXT (repeatable), e.g. --only SetQuota.")
    List<String> only = new ArrayList<>();

    @Option(names = "--kernel", paramLabel = "VMLINUZ",
            description = "Run the suite inside this kernel instead: booted in qemu (TCG), the host tree shared over virtiofs; the matrix is printed here.")
    Path kernel;

    @Option(names = "--modules", paramLabel = "DIR",
            description = "With --kernel: the kernel's module tree (default: /lib/modules/<its release>).")
    Path modules;

    @Option(names = "--kernel-timeout", paramLabel = "SECONDS", defaultValue = "3600",
            description = "With --kernel: kill the guest after this long (default: ${DEFAULT-VALUE}).")
    long kernelTimeout;

    @Override
    protected int run() {
        List<String> drivers = new ArrayList<>();
        if (top().driver != null) {
            for (String n : top().driver.split(",")) if (!n.isBlank()) drivers.add(n.strip());
        }
        drivers.addAll(names);
        // -o goes to the drivers that declare its key (the suite runs several drivers at once).
        List<String> options = new ArrayList<>(session().options());
        if (kernel != null) {
            List<String> args = new ArrayList<>();
            if (!drivers.isEmpty()) args.addAll(List.of("-s", String.join(",", drivers)));
            options.forEach(o -> args.addAll(List.of("--storage-opt", o)));
            if (scratch != null) args.addAll(List.of("--scratch", scratch.toAbsolutePath().toString()));
            if (report != null) args.addAll(List.of("--report", report.toAbsolutePath().toString()));
            if (json()) args.add("--json");
            only.forEach(o -> args.addAll(List.of("--only", o)));
            return LabConformance.run(kernel, modules, Duration.ofSeconds(kernelTimeout), args,
                    out(), err());
        }
        return ConformanceRunner.execute(new ConformanceRunner.Request(drivers, options, scratch, report, json(), only), out(), err());
    }
}
