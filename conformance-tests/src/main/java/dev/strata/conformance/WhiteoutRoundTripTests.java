package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.SyscallException;
import dev.strata.nativeio.Xattrs;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestFactory;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.strata.conformance.Applier.all;
import static dev.strata.conformance.Applier.chown;
import static dev.strata.conformance.Applier.createDir;
import static dev.strata.conformance.Applier.createFile;
import static dev.strata.conformance.Applier.fifo;
import static dev.strata.conformance.Applier.link;
import static dev.strata.conformance.Applier.removeAll;
import static dev.strata.conformance.Applier.symlink;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Whiteouts through tar, across drivers (none of the reference suites does this). A three-layer stack is written
 * through the driver under test's mounts, so each driver makes its own on-disk whiteouts: deleted files, a
 * deleted directory, an opaque directory, a file and a directory re-created after their delete, a file replaced
 * by a directory, a hard-link partner replaced, a chown-only change, plus a symlink, a fifo, setuid, a binary
 * {@code security.capability} and a {@code user.} xattr. Each layer is diffed out of it and applied, layer by
 * layer, into every registered driver that runs here (itself included: that is {@code docker commit}), and each
 * applied layer must equal its source, regular-file and symlink mtimes included.
 */
public interface WhiteoutRoundTripTests extends DriverUnderTest {
    /** cap_net_raw+ep as VFS_CAP_REVISION_2: magic|effective, permitted low word bit 13, the rest zero. */
    byte[] CAP_NET_RAW_EP = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    @TestFactory
    @Order(501)
    @DisplayName("strata: WhiteoutRoundTrip")
    default Stream<DynamicTest> whiteoutRoundTrip() {
        StorageDriver source = driver();
        List<String> ids = List.of(Layers.id("wh-1"), Layers.id("wh-2"), Layers.id("wh-3"));
        List<Applier> steps = List.of(
                all(createDir("/etc", 0755), createFile("/etc/a", "a", 0644), createFile("/etc/b", "b", 0600),
                        chown("/etc/b", 1, 1),
                        createDir("/opq", 0755), createFile("/opq/x", "x", 0644), createDir("/opq/sub", 0750),
                        createFile("/opq/sub/y", "y", 0644),
                        createDir("/gone", 0755), createFile("/gone/z", "z", 0644),
                        createFile("/recreate", "v1", 0644),
                        symlink("etc/a", "/link"),
                        createFile("/hard-1", "pair", 0644), link("/hard-1", "/hard-2"),
                        fifo("/fifo", 0600),
                        createFile("/suid", "#!/bin/sh\n", 04755),
                        createFile("/cap", "\177ELF", 0755), optionalXattr("/cap", "security.capability", CAP_NET_RAW_EP),
                        createFile("/xattr", "x", 0644), optionalXattr("/xattr", "user.strata", new byte[]{0, 1, 2, (byte) 0xff})),
                all(removeAll("/etc/a"),
                        removeAll("/opq"), createDir("/opq", 0755), createFile("/opq/new", "new", 0644),
                        removeAll("/gone"),
                        removeAll("/recreate"),
                        chown("/etc/b", 2, 2)),
                all(createFile("/recreate", "v3", 0644),
                        createDir("/etc/a", 0755), createFile("/etc/a/inside", "i", 0644),
                        createDir("/gone", 0755), createFile("/gone/new", "n", 0644),
                        removeAll("/opq/new"),
                        removeAll("/hard-1"), createFile("/hard-1", "no longer a pair", 0644)));
        List<Map<String, String>> expected = new ArrayList<>();
        String parent = null;
        for (int i = 0; i < ids.size(); i++) {
            source.create(ids.get(i), parent, CreateOptions.NONE);
            Layers.apply(source, ids.get(i), steps.get(i));
            expected.add(Layers.describe(source, ids.get(i), true));
            parent = ids.get(i);
        }
        return providers().stream().map(DriverProvider::name).map(target -> dynamicTest("into " + target, () -> {
            Path intoRoot = testRoot().resolve("into-" + target);
            StorageDriver into = openOther(target, intoRoot);
            // A target on a filesystem without user.* xattrs (tmpfs before Linux 6.6) cannot keep user.strata, as
            // GNU tar and moby cannot there: compare the rest.
            boolean userXattrs = takesUserXattrs(into);
            String below = null;
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                into.create(id, below, CreateOptions.NONE);
                try (InputStream diff = source.diff(id, below)) {
                    into.applyDiff(id, below, diff);
                }
                Map<String, String> want = userXattrs ? expected.get(i) : TreeDescription.withoutXattrs(expected.get(i), "user.");
                Layers.assertSameTree(want, Layers.describe(into, id, true),
                        "layer " + (i + 1) + " diffed out of " + driverName() + " and applied into " + target
                                + (userXattrs ? "" : " (user.* xattrs left out: the target's filesystem has none)"));
                below = id;
            }
        }));
    }

    /** Whether the layers of {@code into} take {@code user.*} xattrs, tried on a throwaway layer of its own. */
    private static boolean takesUserXattrs(StorageDriver into) throws java.io.IOException {
        String probe = Layers.id("xattr-probe");
        into.create(probe, null, CreateOptions.NONE);
        try {
            Path root = into.get(probe, null);
            try {
                Path f = java.nio.file.Files.writeString(root.resolve("probe"), "x");
                Xattrs.set(f, "user.strata-probe", new byte[]{1});
                return true;
            } catch (SyscallException e) {
                if (e.is(Errno.EOPNOTSUPP)) return false;
                throw e;
            } finally {
                into.put(probe);
            }
        } finally {
            into.remove(probe);
        }
    }

    /** Sets an xattr, or nothing where the filesystem under the layer does not take that namespace. */
    private static Applier optionalXattr(String path, String name, byte[] value) {
        return root -> {
            try {
                Xattrs.set(Applier.at(root, path), name, value);
            } catch (SyscallException e) {
                if (!e.is(Errno.EOPNOTSUPP)) throw e;
            }
        };
    }

}
