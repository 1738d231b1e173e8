package dev.strata.conformance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.UnknownDriverException;
import dev.strata.conformance.RunReport.DriverReport;
import dev.strata.nativeio.Kernel;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Runs {@link RegistryConformanceTest} for each named driver through the JUnit Platform launcher and reports a
 * {@link RunReport}: a matrix for people, JSON for machines. Used by {@code strata conformance} and runnable on
 * its own:
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... dev.strata.conformance.ConformanceRunner \
 *     [-s NAME]... [--storage-opt KEY=VALUE]... [--scratch DIR] [--report FILE] [--json]
 * </pre>
 *
 * Without {@code -s}, every registered driver runs. A {@code --storage-opt} whose key starts with a driver's
 * name ({@code overlay.mountopt=...}) goes to that driver; one without such a prefix goes to every driver. The
 * exit status is 0 when nothing failed, 1 when something did, 2 for a usage error.
 */
public final class ConformanceRunner {
    private ConformanceRunner() {
    }

    /** What to run and how to report it. */
    public record Request(List<String> drivers, List<String> storageOptions, Path scratch, Path report, boolean json,
                          List<String> only) {
        public Request(List<String> drivers, List<String> storageOptions, Path scratch, Path report, boolean json) {
            this(drivers, storageOptions, scratch, report, json, List.of());
        }

        public Request {
            drivers = List.copyOf(drivers);
            storageOptions = List.copyOf(storageOptions);
            only = only == null ? List.of() : List.copyOf(only);
        }
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Parses {@code args} as {@link ConformanceRunner} documents, runs, and returns the exit status. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        List<String> drivers = new ArrayList<>();
        List<String> storageOptions = new ArrayList<>();
        Path report = null;
        Path scratch = null;
        boolean json = false;
        List<String> only = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-s", "--storage-driver" -> {
                    if (++i == args.length) return usage(err, a + " needs a driver name");
                    for (String n : args[i].split(",")) if (!n.isBlank()) drivers.add(n.strip());
                }
                case "--storage-opt" -> {
                    if (++i == args.length) return usage(err, a + " needs KEY=VALUE");
                    storageOptions.add(args[i]);
                }
                case "--report" -> {
                    if (++i == args.length) return usage(err, a + " needs a file");
                    report = Path.of(args[i]);
                }
                case "--scratch" -> {
                    if (++i == args.length) return usage(err, a + " needs a directory");
                    scratch = Path.of(args[i]);
                }
                case "--only" -> {
                    if (++i == args.length) return usage(err, a + " needs a part of a test's name");
                    only.add(args[i]);
                }
                case "--json" -> json = true;
                case "-h", "--help" -> {
                    usage(out, null);
                    return 0;
                }
                default -> {
                    return usage(err, "unknown argument " + a);
                }
            }
        }
        return execute(new Request(drivers, storageOptions, scratch, report, json, only), out, err);
    }

    /** Runs the request, prints the matrix (or JSON) to {@code out} and progress to {@code err}. */
    public static int execute(Request request, PrintWriter out, PrintWriter err) {
        RunReport result;
        if (request.scratch() != null) System.setProperty(ConformanceSuite.SCRATCH_PROPERTY, request.scratch().toString());
        try {
            result = run(request.drivers(), request.storageOptions(), request.only(), err);
        } catch (UnknownDriverException e) {
            err.println("strata conformance: " + e.getMessage());
            return 2;
        }
        String text = Matrix.render(result);
        String json = toJson(result);
        out.print(request.json() ? json : text);
        out.flush();
        if (request.report() != null) {
            boolean asJson = request.json() || request.report().toString().endsWith(".json");
            try {
                Files.writeString(request.report(), asJson ? json : text);
            } catch (IOException e) {
                err.println("strata conformance: cannot write the report to " + request.report() + ": " + e);
                return 1;
            }
        }
        return result.failed() ? 1 : 0;
    }

    /**
     * Runs the suite for each driver (every registered one when {@code drivers} is empty), one after the other.
     *
     * @param progress where to print one line per finished case, or null
     */
    public static RunReport run(List<String> drivers, List<String> storageOptions, PrintWriter progress) {
        return run(drivers, storageOptions, List.of(), progress);
    }

    /** As {@link #run(List, List, PrintWriter)}, keeping only the tests whose name contains one of {@code only}. */
    public static RunReport run(List<String> drivers, List<String> storageOptions, List<String> only, PrintWriter progress) {
        dev.strata.nativeio.Native.linkInBackground(); // while JUnit discovers the suite: ~3 s of a kernel lab run under TCG
        DriverRegistry registry = DriverRegistry.load();
        List<DriverProvider> selected = new ArrayList<>();
        if (drivers.isEmpty()) {
            selected.addAll(registry.providers());
        } else {
            for (String d : drivers) selected.add(registry.require(d)); // an unknown name lists the known ones
        }
        OffsetDateTime start = OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS);
        long t0 = System.nanoTime();
        Launcher launcher = LauncherFactory.create();
        List<DriverReport> reports = new ArrayList<>();
        for (DriverProvider p : selected) {
            List<String> options = optionsFor(p, storageOptions);
            if (progress != null) progress.println("strata conformance: " + p.name() + (options.isEmpty() ? "" : " " + options));
            LauncherDiscoveryRequest discovery = LauncherDiscoveryRequestBuilder.request()
                    .selectors(selectClass(RegistryConformanceTest.class))
                    .configurationParameter(RegistryConformanceTest.DRIVER_PARAMETER, p.name())
                    .configurationParameter(RegistryConformanceTest.OPTIONS_PARAMETER, String.join("\n", options))
                    .filters(onlyFilter(only))
                    .build();
            ResultCollector collector = new ResultCollector(p.name(), progress);
            long d0 = System.nanoTime();
            launcher.execute(discovery, collector);
            reports.add(new DriverReport(p.name(), options, (System.nanoTime() - d0) / 1_000_000, collector.results()));
        }
        return new RunReport(Kernel.release(), start.toString(), (System.nanoTime() - t0) / 1_000_000, reports);
    }

    /**
     * Keeps the tests whose display name, or an enclosing one, contains one of {@code only} (all when empty). Classes
     * and the engine stay, so that JUnit prunes the containers left empty.
     */
    static org.junit.platform.launcher.PostDiscoveryFilter onlyFilter(List<String> only) {
        return descriptor -> {
            if (only.isEmpty()) return org.junit.platform.engine.FilterResult.included("all tests");
            boolean methodLevel = descriptor.getSource().map(src -> src instanceof org.junit.platform.engine.support.descriptor.MethodSource).orElse(false);
            if (!methodLevel) return org.junit.platform.engine.FilterResult.included("container");
            for (org.junit.platform.engine.TestDescriptor d = descriptor; d != null; d = d.getParent().orElse(null)) {
                for (String o : only) {
                    if (d.getDisplayName().contains(o)) return org.junit.platform.engine.FilterResult.included("matches " + o);
                }
            }
            return org.junit.platform.engine.FilterResult.excluded("not one of " + only);
        };
    }

    /**
     * The options meant for {@code p}: those whose key it declares ({@code dm.basesize} goes to devmapper, though
     * its prefix is not the driver's name), and those no driver declares, so that the driver names a typo.
     */
    static List<String> optionsFor(DriverProvider p, List<String> storageOptions) {
        return optionsFor(p, storageOptions, DriverRegistry.load().providers());
    }

    static List<String> optionsFor(DriverProvider p, List<String> storageOptions, List<DriverProvider> all) {
        java.util.Set<String> mine = new java.util.HashSet<>();
        p.options().forEach(o -> mine.add(o.key().toLowerCase(Locale.ROOT)));
        java.util.Set<String> anyone = new java.util.HashSet<>();
        all.forEach(q -> q.options().forEach(o -> anyone.add(o.key().toLowerCase(Locale.ROOT))));
        List<String> out = new ArrayList<>();
        for (String o : storageOptions) {
            String key = (o.contains("=") ? o.substring(0, o.indexOf('=')) : o).trim().toLowerCase(Locale.ROOT);
            if (mine.contains(key) || !anyone.contains(key)) out.add(o);
        }
        return out;
    }

    static String toJson(RunReport report) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int usage(PrintWriter s, String problem) {
        if (problem != null) s.println("strata conformance: " + problem);
        s.println("usage: ConformanceRunner [-s NAME]... [--storage-opt KEY=VALUE]... [--scratch DIR] [--report FILE] [--json]");
        s.println("  -s, --storage-driver NAME  run the suite for this driver (repeatable; default: every registered driver)");
        s.println("  --storage-opt KEY=VALUE    a driver option; it goes to the drivers that declare its key");
        s.println("  --scratch DIR              where the suite mounts its scratch tmpfs (default /tmp)");
        s.println("  --only TEXT                run only the tests whose name contains TEXT (repeatable)");
        s.println("  --report FILE              also write the report to FILE (JSON with --json or a .json name, else the matrix)");
        s.println("  --json                     print the report as JSON instead of the matrix");
        return problem == null ? 0 : 2;
    }
}
