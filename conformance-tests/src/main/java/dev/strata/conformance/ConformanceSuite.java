package dev.strata.conformance;

import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shared conformance suite. A driver runs all of it by extending this class in its own test sources:
 *
 * <pre>{@code
 * class VfsConformanceTest extends ConformanceSuite {
 *     VfsConformanceTest() { super("vfs"); }
 * }
 * }</pre>
 *
 * <p>The provider is found through {@link DriverRegistry#load()}. When its probe says the driver cannot run
 * here, every case is skipped with the probe's reason. The suite mounts its own scratch tmpfs (under
 * {@code /tmp}, or the {@code strata.conformance.scratch} system property) for the whole class and unmounts it
 * at the end; each test gets a fresh directory on it and a freshly opened driver, so cases cannot see each
 * other's layers. After each test the driver is cleaned up and anything still mounted or attached under the
 * test's directory fails that test (and is then removed, so one leak does not break the next case).
 *
 * <p>The cases come in groups, one interface each: {@link MobyGraphTests}, {@link QuotaTests}, {@link ContainerdSnapshotTests},
 * {@link ContractTests}, {@link RobustnessTests}, {@link BackingFilesystemTests}, {@link WhiteoutRoundTripTests},
 * {@link HostileInputTests}, {@link AllOrNothingTests}, {@link IdMapTests}, {@link LostRunDirectoryTests}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
public abstract class ConformanceSuite implements MobyGraphTests, QuotaTests, ContainerdSnapshotTests, ContractTests,
        RobustnessTests, BackingFilesystemTests, WhiteoutRoundTripTests, HostileInputTests, AllOrNothingTests, IdMapTests,
        LostRunDirectoryTests {
    /** System property naming where the scratch tmpfs is mounted (a new directory is made under it). */
    public static final String SCRATCH_PROPERTY = "strata.conformance.scratch";

    private final String driverName;
    private final List<String> options;
    private DriverRegistry registry;
    private DriverProvider provider;
    private Support support;
    private Scratch scratch;
    private Path testRoot;
    private String testName;
    private StorageDriver driver;
    private final List<StorageDriver> extraInstances = new ArrayList<>();
    private final List<LoopFilesystem> extraFilesystems = new ArrayList<>();
    private final List<String> leaks = new ArrayList<>();

    protected ConformanceSuite(String driverName) {
        this(driverName, List.of());
    }

    /** @param options driver-wide {@code key=value} options, e.g. {@code overlay.mountopt=nodev} */
    protected ConformanceSuite(String driverName, List<String> options) {
        this.driverName = Objects.requireNonNull(driverName, "driverName");
        this.options = List.copyOf(options);
    }

    @BeforeAll
    final void mountScratch() {
        registry = DriverRegistry.load();
        provider = registry.require(driverName); // a wrong name is a wiring error: fail, do not skip
        if (!Kernel.isRoot()) {
            support = Support.no("the conformance suite mounts its own scratch tmpfs and needs root (euid " + Kernel.euid() + ")");
            return;
        }
        scratch = Scratch.mount(Path.of(System.getProperty(SCRATCH_PROPERTY, "/tmp")), provider.name());
        support = probe(provider, scratch.testsDir().resolve(provider.name()));
        if (!support.supported() && provider.backingFilesystem().isPresent()) {
            // A driver that needs its own filesystem (btrfs) gets one made on a loop file in the scratch tmpfs.
            String type = provider.backingFilesystem().get();
            try {
                scratch.onFilesystem(type);
                support = probe(provider, scratch.testsDir().resolve(provider.name()));
            } catch (LoopFilesystem.Unavailable | java.io.IOException | RuntimeException e) {
                support = Support.no("it needs " + type + ", and the suite cannot make one on a loop file here: " + e.getMessage());
            }
        }
    }

    private static Support probe(DriverProvider p, Path home) {
        try {
            return p.probe(home);
        } catch (RuntimeException e) {
            return Support.no("probe failed: " + e);
        }
    }

    @AfterAll
    final void unmountScratch() {
        if (scratch == null) return;
        scratch.close();
        if (MountInfo.isMountPoint(scratch.root())) fail("the scratch tmpfs is still mounted on " + scratch.root());
    }

    @BeforeEach
    final void openDriver(TestInfo info) {
        assumeTrue(support.supported(), () -> provider.name() + " cannot run here: " + support.reason());
        testName = info.getTestMethod().map(Method::getName).orElse(info.getDisplayName());
        testRoot = scratch.newTestRoot(testName);
        driver = registry.open(provider, testRoot, options);
    }

    @AfterEach
    final void closeDriver() {
        if (testRoot == null) return;
        List<String> problems = new ArrayList<>();
        List<StorageDriver> all = new ArrayList<>(extraInstances);
        if (driver != null) all.add(driver);
        for (StorageDriver d : all) {
            try {
                d.cleanup();
            } catch (RuntimeException e) {
                problems.add("cleanup of " + d.name() + " on " + d.home() + " failed: " + e);
            }
        }
        for (LoopFilesystem fs : extraFilesystems) {
            try {
                fs.close();
            } catch (RuntimeException e) {
                problems.add("unmounting the " + fs.image() + " made for another driver failed: " + e);
            }
        }
        extraFilesystems.clear();
        List<String> left = scratch.leftoversUnder(testRoot);
        if (!left.isEmpty()) {
            leaks.add(testName + ": " + String.join("; ", left));
            problems.add("left after cleanup(): " + String.join("; ", left));
            scratch.forceClean(testRoot);
        }
        Scratch.deleteQuietly(testRoot);
        extraInstances.clear();
        driver = null;
        testRoot = null;
        if (!problems.isEmpty()) fail(String.join("\n", problems));
    }

    @Test
    @Order(Integer.MAX_VALUE)
    @DisplayName("strata: NoLeftovers")
    final void noLeftovers() {
        List<String> now = scratch.leftoversUnder(scratch.root());
        List<String> all = new ArrayList<>(leaks);
        if (!now.isEmpty()) all.add("still under " + scratch.root() + ": " + String.join("; ", now));
        if (!all.isEmpty()) fail("mounts or devices left behind by this run:\n  " + String.join("\n  ", all));
    }

    @Override
    public final StorageDriver driver() {
        return driver;
    }

    @Override
    public final String driverName() {
        return provider.name();
    }

    @Override
    public final List<String> driverOptions() {
        return options;
    }

    @Override
    public final Path testRoot() {
        return testRoot;
    }

    @Override
    public final StorageDriver reopen() {
        return openAt(testRoot);
    }

    @Override
    public final StorageDriver openAt(Path root) {
        StorageDriver d = registry.open(provider, root, options);
        extraInstances.add(d);
        return d;
    }

    @Override
    public final StorageDriver openOther(String name, Path root) {
        DriverProvider p = registry.require(name);
        Support s = probe(p, DriverRegistry.home(root, p));
        if (!s.supported() && p.backingFilesystem().isPresent()) {
            String type = p.backingFilesystem().get();
            try {
                LoopFilesystem fs = LoopFilesystem.make(root.resolveSibling(root.getFileName() + "-" + type), type, 1L << 30, null);
                extraFilesystems.add(fs);
                root = fs.mountPoint();
                s = probe(p, DriverRegistry.home(root, p));
            } catch (LoopFilesystem.Unavailable | java.io.IOException e) {
                s = Support.no("it needs " + type + ", and none can be made on a loop file here: " + e.getMessage());
            }
        }
        Support support = s;
        assumeTrue(support.supported(), () -> p.name() + " cannot run here: " + support.reason());
        StorageDriver d = registry.open(p, root, List.of());
        extraInstances.add(d);
        return d;
    }

    @Override
    public final java.util.Optional<String> backingFilesystem() {
        return provider.backingFilesystem();
    }

    @Override
    public final List<DriverProvider> providers() {
        return registry.providers();
    }

    @Override
    public String toString() {
        return "conformance suite for " + driverName + (options.isEmpty() ? "" : " " + options);
    }
}
