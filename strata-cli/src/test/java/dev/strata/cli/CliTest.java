package dev.strata.cli;

import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI in-process: exit codes, one-line errors, selection, JSON. */
class CliTest extends ScratchRootTest {
    @Test
    void existsOnARootWithTwoDriversDataIsAnErrorNotANo() throws Exception {
        Files.createDirectories(root.resolve("vfs/dir/x"));
        Files.createDirectories(root.resolve("overlay/y"));
        Result r = strata("exists", "x");
        assertEquals(Main.CANNOT_TELL, r.code(), r.err());
        assertTrue(r.err().contains("several storage drivers"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void layerLifecycleWithExitCodes() {
        assertEquals(0, strata("-s", "vfs", "create", "base").code());
        assertEquals(0, strata("-s", "vfs", "create-rw", "c1", "--parent", "base").code());
        assertEquals(0, strata("-s", "vfs", "exists", "c1").code());
        assertEquals(1, strata("-s", "vfs", "exists", "nosuch").code());
        Result mount = strata("-s", "vfs", "mount", "c1");
        assertEquals(0, mount.code());
        assertEquals(root.resolve("vfs/dir/c1").toString(), mount.out().strip());
        assertEquals("{\"id\":\"c1\",\"exists\":true}", strata("-s", "vfs", "--json", "exists", "c1").out().strip());
        assertTrue(strata("-s", "vfs", "layers").out().contains("c1"));
        assertEquals(0, strata("-s", "vfs", "unmount", "c1").code());
        Result busy = strata("-s", "vfs", "remove", "base");
        assertEquals(1, busy.code());
        assertEquals("strata: remove base: layer has 1 child layer(s) (c1); remove them first", busy.err().strip());
        assertEquals(0, strata("-s", "vfs", "remove", "c1").code());
        assertEquals(0, strata("-s", "vfs", "remove", "base").code());
        assertEquals(0, strata("-s", "vfs", "cleanup").code());
    }

    @Test
    void applyMountWriteAndDiffListsExactlyTheNewFile() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src/etc"));
        Files.writeString(src.resolve("hostname"), "strata\n");
        Path tar = tmp.resolve("base.tar.gz");
        Process p = new ProcessBuilder("tar", "-C", tmp.resolve("src").toString(), "-czf", tar.toString(), ".").inheritIO().start();
        assertEquals(0, p.waitFor());

        assertEquals(0, strata("-s", "vfs", "create", "base").code());
        Result applied = strata("-s", "vfs", "apply", "base", tar.toString());
        assertEquals(0, applied.code(), applied.err());
        assertEquals(0, strata("-s", "vfs", "create-rw", "c1", "--parent", "base").code());
        Path mnt = Path.of(strata("-s", "vfs", "mount", "c1").out().strip());
        assertEquals("strata\n", Files.readString(mnt.resolve("etc/hostname")));
        Files.writeString(mnt.resolve("new-file"), "written inside the mount");

        Path out = tmp.resolve("c1.tar");
        Result diff = strata("-s", "vfs", "diff", "c1", "--parent", "base", "--output", out.toString());
        assertEquals(0, diff.code(), diff.err());
        Process list = new ProcessBuilder("tar", "-tf", out.toString()).redirectErrorStream(true).start();
        String names = new String(list.getInputStream().readAllBytes()).strip();
        assertEquals(0, list.waitFor());
        assertEquals("new-file", names);
        assertEquals("A /new-file", strata("-s", "vfs", "changes", "c1", "--parent", "base").out().strip());

        assertEquals(0, strata("-s", "vfs", "unmount", "c1").code());
        assertEquals(0, strata("-s", "vfs", "remove", "c1").code());
        assertEquals(0, strata("-s", "vfs", "remove", "base").code());
        assertEquals(0, strata("-s", "vfs", "cleanup").code());
        assertTrue(MountInfo.under(root).size() == 1, "only the test's own tmpfs is mounted under the root");
    }

    @Test
    void errorsAreOneLineNamingTheLayerAndTheCause() {
        Result missing = strata("-s", "vfs", "create", "c2", "--parent", "nosuch");
        assertEquals(1, missing.code());
        assertEquals("strata: create c2: parent layer nosuch does not exist", missing.err().strip());
        Result badId = strata("-s", "vfs", "create", "../x");
        assertEquals(2, badId.code());
        assertTrue(badId.err().startsWith("strata: create \"../x\": invalid layer id"), badId.err());
        assertEquals(1, badId.err().strip().lines().count());
    }

    @Test
    void unknownDriverAndOptionNameWhatExists() {
        Result nosuch = strata("-s", "nosuch", "drivers");
        assertEquals(2, nosuch.code());
        assertTrue(nosuch.err().startsWith("strata: drivers: unknown storage driver \"nosuch\" (drivers: ") && nosuch.err().contains("vfs"), nosuch.err());
        Result bogus = strata("-s", "vfs", "--storage-opt", "vfs.bogus=1", "status");
        assertEquals(2, bogus.code());
        assertEquals("strata: status: unknown option vfs.bogus (valid keys: vfs.size, vfs.copy)", bogus.err().strip());
        Result usage = strata("create");
        assertEquals(2, usage.code());
        assertTrue(usage.err().contains("Missing required parameter"), usage.err());
    }

    @Test
    void driversListsEachWithSupportAndTheChoice() {
        Result r = strata("drivers");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("vfs") && r.out().contains("selected: "), r.out());
        assertTrue(r.out().contains("btrfs") && (r.out().contains("not btrfs (filesystem magic") || r.out().contains("a subvolume per layer")), r.out());
        Result json = strata("--json", "drivers");
        assertTrue(json.out().contains("\"name\":\"vfs\"") && json.out().contains("\"selected\""), json.out());
    }

    @Test
    void driversSayHowEachShowsLayersUnderIdMaps() {
        // the probe's answer on the root's filesystem (a tmpfs here, which this kernel idmaps from 6.3 on)
        Result r = strata("drivers");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ID MAPS"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("vfs\\s+chown copy .*")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("overlay\\s+(idmapped lowers \\(overlay on idmapped tmpfs lowers\\)|no: .+)")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("aufs\\s+no: .+")), r.out());
        Result json = strata("--json", "drivers");
        assertTrue(json.out().contains("\"idMaps\":{\"supported\":true,\"how\":\"chown copy"), json.out());
    }

    @Test
    void theConfigFileSelectsTheDriverAndAFlagOverridesIt() throws Exception {
        Path cfg = Files.writeString(tmp.resolve("config.json"), "{\"storage-driver\":\"vfs\",\"storage-opts\":[\"vfs.copy=copy\"]}");
        Result status = strata("--config", cfg.toString(), "status");
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("Storage Driver: vfs") && status.out().contains("read/write"), status.out());
        Path bad = Files.writeString(tmp.resolve("bad.json"), "{\"storage-drvier\":\"vfs\"}");
        Result typo = strata("--config", bad.toString(), "status");
        assertEquals(2, typo.code());
        assertEquals("strata: config " + bad + ": unknown key \"storage-drvier\" (keys: storage-driver, storage-opts, root)", typo.err().strip());
        Path notList = Files.writeString(tmp.resolve("string.json"), "{\"storage-opts\": \"vfs.copy=copy\"}");
        Result wrongType = strata("--config", notList.toString(), "status");
        assertEquals(2, wrongType.code());
        assertEquals("strata: config " + notList + ": key \"storage-opts\": expected a list of \"key=value\" strings such as"
                + " [\"overlay.size=10G\"], got the string \"vfs.copy=copy\"", wrongType.err().strip());
        Result dir = strata("--config", tmp.toString(), "status");
        assertEquals(2, dir.code());
        assertEquals("strata: config " + tmp + ": is a directory, not a JSON file", dir.err().strip());
        Result missing = strata("--config", tmp.resolve("nope.json").toString(), "status");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope.json: no such file"), missing.err());
        assertFalse(Files.exists(root.resolve("overlay")));
    }
}
