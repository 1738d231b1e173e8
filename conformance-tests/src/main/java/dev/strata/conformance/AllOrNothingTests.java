package dev.strata.conformance;

import com.github.luben.zstd.ZstdOutputStream;
import dev.strata.api.CreateOptions;
import dev.strata.api.LayerBusyException;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.nativeio.Mounts;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Nothing stored is ever lost: an apply, create or remove that fails or is killed leaves a state the calls agree
 * on, and an apply that fails leaves the layer exactly as it was, with an error that says so.
 */
public interface AllOrNothingTests extends DriverUnderTest {
    /** Every way an apply can fail that a caller can cause, each a stream this driver must refuse. */
    private static Map<String, byte[]> badStreams() throws IOException {
        byte[] good = KillTrial.applied();
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("garbage", "garbage\n".getBytes(StandardCharsets.UTF_8));
        bad.put("a truncated tar", Arrays.copyOf(good, good.length / 2 + 100));
        bad.put("a truncated gzip stream", Arrays.copyOf(compress(good, GZIPOutputStream::new), 4000));
        bad.put("a truncated zstd stream", Arrays.copyOf(compress(good, ZstdOutputStream::new), 4000));
        bad.put("bzip2", new byte[]{'B', 'Z', 'h', '9', '1', 'A', 'Y', '&', 'S', 'Y'});
        bad.put("xz", new byte[]{(byte) 0xfd, '7', 'z', 'X', 'Z', 0, 0, 4});
        ByteArrayOutputStream refused = new ByteArrayOutputStream();
        refused.write(good, 0, good.length - 1024); // every entry but the end-of-archive blocks
        refused.write(KillTrial.climbingOut());
        bad.put("a refused entry after 240 good ones", refused.toByteArray());
        return bad;
    }

    interface Compressor {
        OutputStream wrap(OutputStream out) throws IOException;
    }

    private static byte[] compress(byte[] b, Compressor c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream z = c.wrap(out)) {
            z.write(b);
        }
        return out.toByteArray();
    }

    private void failedAppliesLeave(StorageDriver d, String id) throws IOException {
        Map<String, String> before = Layers.describe(d, id, true);
        List<String> layers = d.layers().stream().sorted().toList();
        for (Map.Entry<String, byte[]> c : badStreams().entrySet()) {
            StorageException e = assertThrows(StorageException.class,
                    () -> d.applyDiff(id, "aon-base", new ByteArrayInputStream(c.getValue())), c.getKey() + " was applied");
            assertTrue(e.getMessage().contains("layer " + id + " unchanged"), c.getKey() + ": the error must say the layer is unchanged: " + e.getMessage());
            assertTrue(d.exists(id), c.getKey() + ": the layer is gone");
            Layers.assertSameTree(before, Layers.describe(d, id, true), c.getKey() + " changed the layer");
            assertEquals(layers, d.layers().stream().sorted().toList(), c.getKey() + ": layers()");
        }
        long size = d.applyDiff(id, "aon-base", new ByteArrayInputStream(KillTrial.applied()));
        assertEquals(d.diffSize(id, "aon-base"), size, "a good apply after the failed ones");
    }

    private void base(StorageDriver d) {
        d.create("aon-base", null, CreateOptions.NONE);
        d.applyDiff("aon-base", null, new ByteArrayInputStream(KillTrial.baseTar()));
    }

    @Test
    @Order(701)
    @DisplayName("strata: FailedApplyOntoAnEmptyLayer")
    default void failedApplyOntoAnEmptyLayer() throws IOException {
        StorageDriver d = driver();
        base(d);
        d.create("empty", "aon-base", CreateOptions.NONE);
        failedAppliesLeave(d, "empty");
    }

    @Test
    @Order(702)
    @DisplayName("strata: FailedApplyOntoALayerWithContent")
    default void failedApplyOntoALayerWithContent() throws IOException {
        StorageDriver d = driver();
        base(d);
        d.createReadWrite("full", "aon-base", CreateOptions.NONE);
        Layers.apply(d, "full", Applier.all(Applier.createDir("/own", 0750), Applier.createFile("/own/file", "mine", 0600),
                Applier.removeAll("/base-gone"), Applier.link("/base-file", "/own/link")));
        failedAppliesLeave(d, "full");
    }

    @Test
    @Order(703)
    @DisplayName("strata: ApplyOntoALayerWithChildren")
    default void applyOntoALayerWithChildren() {
        StorageDriver d = driver();
        base(d);
        d.create("child", "aon-base", CreateOptions.NONE);
        Map<String, String> parentBefore = Layers.describe(d, "aon-base", true), childBefore = Layers.describe(d, "child", true);
        LayerBusyException e = assertThrows(LayerBusyException.class,
                () -> d.applyDiff("aon-base", null, new ByteArrayInputStream(KillTrial.applied())));
        assertTrue(e.getMessage().contains("child") && e.getMessage().contains("layer aon-base unchanged"), e.getMessage());
        Layers.assertSameTree(parentBefore, Layers.describe(d, "aon-base", true), "the parent after a refused apply");
        Layers.assertSameTree(childBefore, Layers.describe(d, "child", true), "the child after its parent's refused apply");
        d.remove("child");
        d.applyDiff("aon-base", null, new ByteArrayInputStream(KillTrial.applied())); // no children now
    }

    @Test
    @Order(704)
    @DisplayName("strata: KillDuringApplyCreateRemove (kill -9 at random points)")
    default void killDuringApplyCreateRemove() throws Exception {
        KillTrial.Op[] ops = KillTrial.Op.values();
        Map<KillTrial.Op, String> seen = new EnumMap<>(KillTrial.Op.class);
        // Each operation twice: on a layer without content of its own, then on one with.
        killTrials(ops.length * 2, i -> ops[i / 2] + " trial " + (i % 2 + 1), (trial, i, random) ->
                seen.merge(ops[i / 2], trial.run(ops[i / 2], i % 2 == 1, random).state(), (a, b) -> a + "," + b));
        assertEquals(Set.of(ops), seen.keySet(), "every operation was tried: " + seen);
    }

    @Test
    @Order(704)
    @DisplayName("strata: KillDuringCreateThenLostRunDirectory (kill -9, then no run directory, as after a reboot)")
    default void killDuringCreateThenLostRunDirectory() throws Exception {
        killTrials(3, i -> "trial " + (i + 1), (trial, i, random) -> trial.run(KillTrial.Op.CREATE, false, true, random));
    }

    /** The i-th (from 0) of a test's kill trials, whose kill points come from {@code random}. */
    @FunctionalInterface
    interface KillRound {
        void run(KillTrial trial, int i, SplittableRandom random) throws Exception;
    }

    /**
     * Runs {@code rounds} kill trials on one seed (from -Dstrata.conformance.killSeed, else the clock): a failed one
     * is named by {@code label} with the seed, so that the property repeats the run.
     */
    private void killTrials(int rounds, IntFunction<String> label, KillRound round) throws Exception {
        long seed = Long.getLong("strata.conformance.killSeed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        KillTrial trial = new KillTrial(driverName(), driverOptions(), testRoot(), this::reopen);
        for (int i = 0; i < rounds; i++) {
            try {
                round.run(trial, i, random);
            } catch (AssertionError e) {
                fail(label.apply(i) + " (seed " + seed + ", -Dstrata.conformance.killSeed to repeat): " + e.getMessage(), e);
            }
        }
    }

    @Test
    @Order(705)
    @DisplayName("strata: FailedApplyOnAFullDisk")
    default void failedApplyOnAFullDisk() throws Exception {
        assumeFalse(driverName().startsWith("devmapper"), "devmapper's layers are thin devices: the pool's fill level is "
                + "dm.min_free_space's job, and filling its loop files' filesystem would break the pool");
        Path small = Files.createDirectories(testRoot().resolve("small"));
        LoopFilesystem own = null;
        if (backingFilesystem().isPresent()) {
            // A driver with a filesystem of its own (btrfs) gets a small one of that kind: 64 MiB in btrfs's mixed data
            // and metadata mode (below that, its own reservations leave no room for a layer).
            try {
                own = LoopFilesystem.make(small, backingFilesystem().get(), 64 << 20, List.of("--mixed"), null);
            } catch (LoopFilesystem.Unavailable e) {
                abort(e.getMessage());
            }
        } else {
            Mounts.mount("strata-full", small, "tmpfs", 0, "size=4m");
        }
        Path on = own == null ? small : own.mountPoint();
        try {
            StorageDriver d = openAt(on);
            d.create("aon-base", null, CreateOptions.NONE);
            d.applyDiff("aon-base", null, new ByteArrayInputStream(KillTrial.baseTar()));
            d.create("x", "aon-base", CreateOptions.NONE);
            d.applyDiff("x", "aon-base", new ByteArrayInputStream(KillTrial.applied())); // ~2 MiB: fits once
            Map<String, String> before = Layers.describe(d, "x", true);
            // More than the filesystem has left, whatever its size: 3 MiB or so on the 4 MiB tmpfs.
            int tooBig = (int) Files.getFileStore(on).getUsableSpace() + (2 << 20);
            StorageException e = assertThrows(StorageException.class,
                    () -> d.applyDiff("x", "aon-base", new ByteArrayInputStream(KillTrial.bigger(tooBig))));
            assertTrue(e.getMessage().contains("layer x unchanged"), e.getMessage());
            Layers.assertSameTree(before, Layers.describe(d, "x", true), "a layer whose apply ran out of space");
            d.remove("x");
            d.remove("aon-base");
            d.cleanup();
        } finally {
            if (own != null) own.close();
            else Mounts.unmountIfMounted(small, Mounts.MNT_DETACH);
        }
    }

    @Test
    @Order(706)
    @DisplayName("strata: Rootless (unshare -Urm as an unprivileged user)")
    default void rootless() throws Exception {
        RootlessRun.Result r = RootlessRun.run(driverName(), driverOptions(), testRoot());
        assumeTrue(r.supported(), () -> driverName() + " cannot run rootless here: " + r.output());
        assertTrue(r.ok(), "the lifecycle as an unprivileged user in a user namespace failed:\n" + r.output());
    }
}
