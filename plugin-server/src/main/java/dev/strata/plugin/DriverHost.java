package dev.strata.plugin;

import dev.strata.api.DriverOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.IdMaps;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one {@link StorageDriver} a plugin serves, opened when dockerd calls {@code GraphDriver.Init}.
 *
 * <p>How Init's {@code Home} relates to the driver's home: dockerd sends {@code Home = <data-root>/<plugin name>}
 * (e.g. {@code /var/lib/docker/strata}) and expects the plugin to keep everything under it. Strata treats Home as
 * its storage <em>root</em>, and the driver lives in {@code <Home>/<driver name>} (an existing alias directory
 * wins, see {@link DriverRegistry#home}), exactly as {@code strata --root <Home>} would open it. So the CLI can
 * work on the same layers ({@code strata --root /var/lib/docker/strata -s overlay ...}), and a plugin restarted
 * with another driver under the same plugin name finds no foreign layout in its home: Init refuses, naming the
 * driver whose data is there, rather than mixing two layouts or silently losing dockerd's layers.
 *
 * <p>Driver options are the plugin's own {@code -o key=value} followed by dockerd's {@code --storage-opt} values
 * (Init's Opts), so dockerd's win where both set a key.
 */
final class DriverHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DriverHost.class.getName());

    private final DriverRegistry registry;
    private final String driverName;
    private final List<String> pluginOptions;
    private final Map<String, String> environment;

    private volatile StorageDriver driver;
    private Path root;
    private List<String> options;
    private volatile IdMaps maps = IdMaps.NONE;

    /**
     * @param driverName the driver to serve, or null to choose at Init as {@link DriverRegistry#select} does
     *                   (environment, data already under Home, then the best supported driver)
     */
    DriverHost(DriverRegistry registry, String driverName, List<String> pluginOptions, Map<String, String> environment) {
        this.registry = registry;
        this.driverName = driverName == null || driverName.isBlank() ? null : driverName.trim();
        this.pluginOptions = List.copyOf(pluginOptions);
        this.environment = Map.copyOf(environment);
        if (this.driverName != null) {
            // Fail at start, not when dockerd first calls Init, on a misspelt driver or option.
            DriverProvider p = registry.require(this.driverName);
            DriverOptions.parse(p.name(), this.pluginOptions, p.options());
        }
    }

    /**
     * GraphDriver.Init. A second Init with the same home, options and maps (dockerd restarted) keeps the open
     * driver. With dockerd's {@code --userns-remap} maps, every container layer (CreateReadWrite: the container's
     * and its {@code -init} layer) is made with them, so dockerd gets its rootfs owned by the remapped ids; image
     * layers keep the image's own ids, shared with every map.
     */
    synchronized void init(String home, List<String> dockerOptions, IdMaps maps) {
        if (home == null || home.isBlank()) throw new StorageException("init", null, "Home is empty");
        Path root = Path.of(home);
        if (!root.isAbsolute()) throw new StorageException("init", home, "Home must be an absolute path");
        List<String> options = new ArrayList<>(pluginOptions);
        options.addAll(dockerOptions);
        if (driver != null && root.equals(this.root) && options.equals(this.options) && maps.equals(this.maps)) {
            LOG.log(System.Logger.Level.INFO, "Init again on {0}: keeping the open {1} driver", root, driver.name());
            return;
        }
        DriverProvider provider = driverName != null
                ? registry.require(driverName)
                : registry.select(new DriverRegistry.Request(root, null, environment, null)).provider();
        List<String> foreign = registry.priorDrivers(root).stream().filter(p -> p != provider).map(DriverProvider::name).toList();
        if (!foreign.isEmpty()) {
            throw new StorageException("init", home, "holds the layers of storage driver " + String.join(", ", foreign)
                    + ", but this plugin serves " + provider.name() + "; serve that driver (-s " + foreign.getFirst()
                    + ") or move " + root.resolve(foreign.getFirst()) + " away");
        }
        makeRoot(root);
        StorageDriver opened = registry.open(provider, root, options);
        if (!maps.isNone() && !opened.capabilities().idMaps().supported()) {
            String why = opened.capabilities().idMaps().reason();
            opened.close();
            throw new StorageException("init", home, "dockerd runs with --userns-remap (" + maps + "), but " + provider.name()
                    + " cannot show layers under id maps here: " + why);
        }
        StorageDriver old = driver;
        driver = opened;
        this.root = root;
        this.options = List.copyOf(options);
        this.maps = maps;
        LOG.log(System.Logger.Level.INFO, "Init: serving {0} in {1} with options {2}{3}", opened.name(), opened.home(), options,
                maps.isNone() ? "" : ", container layers under " + maps + " (" + opened.capabilities().idMaps().reason() + ")");
        if (old != null) old.close();
    }

    /** The maps of dockerd's {@code --userns-remap}, given to every container layer; {@link IdMaps#NONE} without it. */
    IdMaps maps() {
        return maps;
    }

    /** The open driver, or an error saying Init has not been called. */
    StorageDriver driver() {
        StorageDriver d = driver;
        if (d == null) throw new StorageException(null, null, "GraphDriver.Init has not been called yet");
        return d;
    }

    /** The driver's name if one is open or chosen, for logs. */
    String describe() {
        StorageDriver d = driver;
        return d != null ? d.name() + " in " + d.home() : driverName != null ? driverName + " (not initialised)" : "(not initialised)";
    }

    /** Unmounts what the driver mounted and releases it. */
    @Override
    public synchronized void close() {
        StorageDriver d = driver;
        driver = null;
        if (d != null) d.close();
    }

    /** dockerd makes its built-in drivers' homes 0701: others may traverse, not list. Do the same for Home. */
    private static void makeRoot(Path root) {
        if (Files.isDirectory(root)) return;
        try {
            Files.createDirectories(root.getParent());
            Files.createDirectory(root);
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx-----x"));
        } catch (FileAlreadyExistsException raced) {
            // made by someone else meanwhile: fine
        } catch (IOException e) {
            throw new StorageException("init", root, "cannot create the plugin's home: " + e.getMessage(), e);
        }
    }
}
