package dev.strata.driver.devmapper;

import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import dev.strata.kit.DriverKit;
import dev.strata.api.DriverContext;
import dev.strata.api.DriverOptions;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared by the tests that need a kernel with device-mapper (run them in the kernel lab). */
final class DmAssumptions {
    /** Small pools, so a test makes its base filesystem in a second under TCG. */
    static final List<String> SMALL = List.of("dm.basesize=64M", "dm.loopdatasize=1G", "dm.loopmetadatasize=16M");

    private DmAssumptions() {
    }

    static void assumeDeviceMapper() {
        assumeTrue(Kernel.isRoot(), "device-mapper tests need root");
        // The driver's own probe decides, not the control node: a node can outlive the driver (dmsetup makes one).
        Support s = DevmapperProbe.probe();
        assumeTrue(s.supported(), s.reason() + "; these tests run in the kernel lab: scripts/kernel-lab");
    }

    static StorageDriver open(Path home, List<String> options) {
        DriverOptions o = DriverOptions.parse("devmapper", options, DevmapperOptions.SPECS);
        return new DevmapperProvider().open(new DriverContext(home, o));
    }

    /** The storage behind a driver {@link #open} made: its device set and mount points. */
    static DevmapperStorage storage(StorageDriver d) {
        return DriverKit.storage(d, DevmapperStorage.class);
    }

    static StorageDriver open(Path home, String... extra) {
        List<String> all = new ArrayList<>(SMALL);
        all.addAll(List.of(extra));
        return open(home, all);
    }

    /** dm devices whose name starts with the home's device prefix (what a test made). */
    static List<String> dmDevices(String prefix) {
        List<String> out = new ArrayList<>();
        try (var s = Files.newDirectoryStream(Path.of("/sys/block"), "dm-*")) {
            for (Path d : s) {
                String n = Files.readString(d.resolve("dm/name")).strip();
                if (n.startsWith(prefix)) out.add(n);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Loop devices backed by a file under {@code dir}. */
    static List<String> loopDevices(Path dir) {
        List<String> out = new ArrayList<>();
        String d = dir.toAbsolutePath().normalize().toString();
        try (var s = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
            for (Path p : s) {
                Path bf = p.resolve("loop/backing_file");
                if (Files.exists(bf) && Files.readString(bf).strip().startsWith(d)) out.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Nothing of this home is left: no dm device, no loop device, no mount. */
    static void assertNothingLeft(Path home, String prefix) {
        assertEquals(List.of(), dmDevices(prefix), "dm devices left");
        assertEquals(List.of(), loopDevices(home), "loop devices left");
        assertEquals(List.of(), MountInfo.under(home).stream().map(MountInfo::mountPoint).toList(), "mounts left");
    }
}
