package dev.strata.api;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Finds drivers at run time through {@link ServiceLoader} and chooses one, in this order: an explicit name, the
 * {@value #ENV_VAR} environment variable, the config file's {@code storage-driver}, a driver whose data is already
 * under the root, and finally the highest-priority driver this machine supports.
 */
public final class DriverRegistry {
    public static final String ENV_VAR = "STRATA_STORAGE_DRIVER";

    private final List<DriverProvider> providers;

    private DriverRegistry(List<DriverProvider> providers) {
        List<DriverProvider> sorted = new ArrayList<>(providers);
        // One lambda of this class, not Comparator's combinators: those are spun at run time (each command's start),
        // this one is in the CLI's AOT cache.
        sorted.sort((a, b) -> a.priority() != b.priority() ? Integer.compare(b.priority(), a.priority()) : a.name().compareTo(b.name()));
        this.providers = List.copyOf(sorted);
    }

    /** Every provider on the class path of this class's loader. */
    public static DriverRegistry load() {
        return load(DriverRegistry.class.getClassLoader());
    }

    public static DriverRegistry load(ClassLoader loader) {
        List<DriverProvider> found = new ArrayList<>();
        ServiceLoader.load(DriverProvider.class, loader).forEach(found::add);
        return of(found);
    }

    public static DriverRegistry of(List<DriverProvider> providers) {
        TreeSet<String> names = new TreeSet<>();
        for (DriverProvider p : providers) {
            for (String n : namesOf(p)) {
                if (!names.add(n)) throw new IllegalStateException("two storage drivers are named " + n);
            }
        }
        return new DriverRegistry(providers);
    }

    /** Providers, highest priority first. */
    public List<DriverProvider> providers() {
        return providers;
    }

    /** Every name and alias, sorted. */
    public List<String> names() {
        TreeSet<String> names = new TreeSet<>();
        providers.forEach(p -> names.addAll(namesOf(p)));
        return List.copyOf(names);
    }

    public Optional<DriverProvider> find(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return providers.stream().filter(p -> namesOf(p).contains(n)).findFirst();
    }

    /** The provider with this name, or an {@link UnknownDriverException} listing the names that exist. */
    public DriverProvider require(String name) {
        return find(name).orElseThrow(() -> new UnknownDriverException(name, names()));
    }

    /**
     * What the user asked for, in precedence order.
     *
     * @param root         the storage root; each driver's home is {@code root/<name>}
     * @param explicitName {@code --storage-driver}, or null
     * @param environment  the process environment (only {@value #ENV_VAR} is read)
     * @param configName   the config file's {@code storage-driver}, or null
     */
    public record Request(Path root, String explicitName, Map<String, String> environment, String configName) {
    }

    /** Chooses a driver. An explicit, environment or configured name that does not exist is an error. */
    public DriverSelection select(Request request) {
        if (present(request.explicitName())) {
            return named(request.explicitName(), DriverSelection.Source.FLAG, request.root());
        }
        String env = request.environment() == null ? null : request.environment().get(ENV_VAR);
        if (present(env)) return named(env, DriverSelection.Source.ENVIRONMENT, request.root());
        if (present(request.configName())) {
            return named(request.configName(), DriverSelection.Source.CONFIG_FILE, request.root());
        }
        List<DriverProvider> prior = priorDrivers(request.root());
        if (prior.size() > 1) {
            throw new StorageException("select driver", request.root().toString(), "contains data of several storage drivers: "
                    + String.join(", ", prior.stream().map(DriverProvider::name).toList())
                    + "; remove the data of all but one, or choose one with --storage-driver");
        }
        if (prior.size() == 1) {
            DriverProvider p = prior.getFirst();
            Support s = p.probe(home(request.root(), p));
            if (!s.supported()) {
                throw new NotSupportedException("select driver", p.name(), "its data is under " + home(request.root(), p)
                        + " but it cannot run here: " + s.reason());
            }
            return new DriverSelection(p, DriverSelection.Source.PRIOR_DATA, home(request.root(), p).toString(), List.of());
        }
        List<DriverSelection.PassedOver> passed = new ArrayList<>();
        for (DriverProvider p : providers) {
            Support s;
            try {
                s = p.probe(home(request.root(), p));
            } catch (RuntimeException e) {
                s = Support.no("probe failed: " + e.getMessage());
            }
            if (s.supported()) return new DriverSelection(p, DriverSelection.Source.AUTO, s.reason(), passed);
            passed.add(new DriverSelection.PassedOver(p.name(), s.reason()));
        }
        StringBuilder why = new StringBuilder("no supported storage driver found");
        for (DriverSelection.PassedOver p : passed) why.append("; ").append(p.name()).append(": ").append(p.reason());
        throw new NotSupportedException("select driver", request.root().toString(), why.toString());
    }

    private DriverSelection named(String name, DriverSelection.Source source, Path root) {
        DriverProvider p = require(name.trim());
        return new DriverSelection(p, source, name, List.of());
    }

    /** Drivers whose home under {@code root} exists and is not empty. */
    public List<DriverProvider> priorDrivers(Path root) {
        List<DriverProvider> prior = new ArrayList<>();
        if (root == null) return prior;
        for (DriverProvider p : providers) {
            for (String n : namesOf(p)) {
                if (notEmptyDir(root.resolve(n))) {
                    prior.add(p);
                    break;
                }
            }
        }
        return prior;
    }

    /** Opens the chosen driver on {@code root/<name>} with raw {@code key=value} options. */
    public StorageDriver open(DriverProvider provider, Path root, List<String> rawOptions) {
        DriverOptions options = DriverOptions.parse(provider.name(), rawOptions, provider.options());
        Path home = home(root, provider);
        Support s = provider.probe(home);
        if (!s.supported()) throw new NotSupportedException("open", provider.name(), s.reason());
        return provider.open(new DriverContext(home, options));
    }

    /** The home of a provider under a root: an existing alias directory wins, so moby's overlay2 data is found. */
    public static Path home(Path root, DriverProvider provider) {
        Path primary = root.resolve(provider.name());
        if (Files.isDirectory(primary)) return primary;
        for (String alias : provider.aliases()) {
            Path a = root.resolve(alias);
            if (Files.isDirectory(a)) return a;
        }
        return primary;
    }

    private static List<String> namesOf(DriverProvider p) {
        List<String> n = new ArrayList<>();
        n.add(p.name().toLowerCase(Locale.ROOT));
        p.aliases().forEach(a -> n.add(a.toLowerCase(Locale.ROOT)));
        return n;
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    private static boolean notEmptyDir(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            return ds.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }
}
