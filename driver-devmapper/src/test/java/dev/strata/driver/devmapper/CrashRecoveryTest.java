package dev.strata.driver.devmapper;

import dev.strata.api.StorageDriver;
import dev.strata.api.CreateOptions;
import dev.strata.kit.RunDirectory;
import dev.strata.nativeio.Trees;
import dev.strata.nativeio.Errno;
import dev.strata.nativeio.SyscallException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A JVM killed in the middle of a create, a remove or an apply, and a restart: no half-made layer is visible (a
 * create killed after its commit point is whole and stays; an apply killed after its is applied), and no thin
 * device is left in the pool without a record (probed id by id with create_thin, which answers EEXIST for an id
 * the pool holds). Runs in the kernel lab.
 */
class CrashRecoveryTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void needsDm() {
        DmAssumptions.assumeDeviceMapper();
    }

    @ParameterizedTest(name = "{0} killed at {1}")
    @CsvSource({
            "create, snapshot-after-open-transaction, false",
            "create, snapshot-after-create-snap, false",
            "create, snapshot-after-register, false",
            "create, snapshot-after-close-transaction, true",
            "remove, delete-after-pool-delete, false",
            "apply, replace-after-commit, true"})
    void killedAtAPointOfCreateOrRemove(String op, String point, boolean victimExists) throws Exception {
        Path home = tmp.resolve("h");
        Process p = child(home, op, point);
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child did not end");
        assertEquals(137, p.exitValue(), "the child halted at " + point + ":\n" + out);
        assertTrue(out.contains("crash point " + point), out);
        assertRecovered(home, 0, victimExists);
    }

    /**
     * As above, then the run directory lost (a reboot, the stale sweep) and with it the kit's marks: a grown create's
     * {@code -new-victim} is found by its record, and a remove killed once its discard began is finished, not shown
     * as a layer that reads zeroes.
     */
    @ParameterizedTest(name = "{0} killed at {1}, then the run directory lost")
    @CsvSource({
            "create-grown, create-before-commit",
            "remove, delete-after-discard"})
    void killedThenRunDirectoryLost(String op, String point) throws Exception {
        Path home = tmp.resolve("h");
        Process p = child(home, op, point);
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child did not end");
        assertEquals(137, p.exitValue(), "the child halted at " + point + ":\n" + out);
        Trees.delete(RunDirectory.forHome(home));
        assertRecovered(home, 0, false);
    }

    @Test
    void killedWithSigkillWhileCreatingLayers() throws Exception {
        Path home = tmp.resolve("h");
        Process p = child(home, "loop", "");
        List<String> created = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("created ")) created.add(line.substring(8));
                if (created.size() == 3) {
                    Thread.sleep(ProcessHandle.current().pid() % 400); // somewhere inside the next create
                    p.destroyForcibly();                                  // SIGKILL
                    break;
                }
            }
        }
        p.waitFor(60, TimeUnit.SECONDS);
        assertFalse(p.isAlive());
        assertTrue(created.size() == 3, "the child created layers before it was killed: " + created);
        assertRecovered(home, 3, false);
    }

    private Process child(Path home, String op, String point) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir")));
        if (!point.isEmpty()) cmd.add("-Dstrata.devmapper.crashAt=" + point + ":victim");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CrashChild.class.getName(), home.toString(), op));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Reopens the home the child died in and checks it is whole. */
    private void assertRecovered(Path home, int atLeastLoopLayers, boolean victimExists) throws Exception {
        StorageDriver d = DmAssumptions.open(home);
        String prefix = DmAssumptions.storage(d).devices().prefix;
        try {
            List<String> layers = d.layers();
            assertTrue(layers.contains("keep"), layers.toString());
            assertEquals(victimExists, d.exists("victim"), "a create past its commit point stays; a half-made or half-removed layer is not visible");
            if (victimExists) {
                assertTrue(d.layers().contains("victim"));
                d.remove("victim");
                layers = d.layers();
            }
            for (String l : layers) {
                assertTrue(d.exists(l));
                d.get(l, ""); // every visible layer is whole: it mounts
                d.put(l);
            }
            assertTrue(layers.size() >= 1 + atLeastLoopLayers, layers.toString());
            DeviceSet ds = DmAssumptions.storage(d).devices();
            assertEquals(List.of(), ds.hashes().stream().filter(h -> h.startsWith("-")).toList(), "staged devices left");
            var t = ds.store.readTransaction();
            if (t != null) assertEquals(ds.pool.status().transactionId(), t.openTransactionId(), "no transaction left open");
            assertNoLeakedThinIds(ds);
            d.create("victim", "keep", CreateOptions.NONE); // the name and the ids are usable again
            d.remove("victim");
        } finally {
            d.cleanup();
        }
        DmAssumptions.assertNothingLeft(home, prefix);
    }

    /** Every id the pool holds is owned by a record; the id map marks exactly those. */
    static void assertNoLeakedThinIds(DeviceSet ds) {
        Set<Integer> owned = ds.ownedIds();
        Set<Integer> marked = new HashSet<>(ds.ids.used());
        assertEquals(owned, marked, "the id map marks exactly the owned ids");
        int max = owned.stream().max(Integer::compare).orElse(0) + 16;
        for (int id = 1; id <= max; id++) {
            if (owned.contains(id)) continue;
            try {
                ds.pool.createThin(id);
                ds.pool.delete(id);
            } catch (SyscallException e) {
                if (e.is(Errno.EEXIST)) fail("thin device " + id + " is in the pool but no layer owns it");
                throw e;
            }
        }
    }
}
