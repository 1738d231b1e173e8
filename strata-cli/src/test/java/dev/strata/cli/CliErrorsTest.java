package dev.strata.cli;

import dev.strata.nativeio.Mounts;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 13's "what was seen": every error is {@code strata: VERB ID: cause}, with the exit codes of the README. */
class CliErrorsTest extends ScratchRootTest {
    private void expect(int code, String line, Result r) {
        assertEquals(line, r.err().strip());
        assertEquals(code, r.code(), r.err());
        r.assertOneCleanLine();
    }

    @Test
    void errorsNameTheVerbAndTheLayerNotTheDriversOperation() {
        for (String driver : List.of("vfs", "overlay")) {
            expect(1, "strata: mount nosuch: layer does not exist", strata("-s", driver, "mount", "nosuch"));
            expect(1, "strata: unmount nosuch: layer does not exist", strata("-s", driver, "unmount", "nosuch"));
            expect(1, "strata: diff-size nosuch: layer does not exist", strata("-s", driver, "diff-size", "nosuch"));
            expect(1, "strata: create-rw x: parent layer nosuch does not exist", strata("-s", driver, "create-rw", "x", "--parent", "nosuch"));
            Result badId = strata("-s", driver, "exists", "../x");
            assertEquals(2, badId.code(), badId.err());
            assertTrue(badId.err().startsWith("strata: exists \"../x\": invalid layer id"), badId.err());
            badId.assertOneCleanLine();
        }
    }

    @Test
    void existsKeepsZeroAndOneForItsAnswerAndThreeForCannotTell() throws Exception {
        assertEquals(0, strata("-s", "vfs", "create", "here").code());
        assertEquals(0, strata("-s", "vfs", "exists", "here").code());
        assertEquals(1, strata("-s", "vfs", "exists", "nosuch").code());
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        Result broken = run("--root", file.toString(), "-s", "vfs", "exists", "x");
        assertEquals(3, broken.code(), broken.err());
        assertTrue(broken.err().startsWith("strata: exists x: "), broken.err());
        broken.assertOneCleanLine();
    }

    @Test
    void truncatedAndMalformedLayersNameTheLayerAndNoInternalPath() throws Exception {
        Files.write(tmp.resolve("random"), new java.util.Random(13).ints(100_000).collect(ByteArrayOutputStream::new,
                (b, i) -> b.write(i), (a, b) -> { }).toByteArray());
        Path tar = tmp.resolve("t.tar");
        assertEquals(0, new ProcessBuilder("tar", "-C", tmp.toString(), "-cf", tar.toString(), "random").start().waitFor());
        byte[] gz = gzip(Files.readAllBytes(tar));
        Path truncated = Files.write(tmp.resolve("t.tar.gz"), Arrays.copyOf(gz, gz.length / 2));
        assertEquals(0, strata("-s", "vfs", "create", "t1").code());
        Result r = strata("-s", "vfs", "apply", "t1", truncated.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("strata: apply t1: the input ends early"), r.err());
        assertTrue(r.err().strip().endsWith("); layer t1 unchanged"), "the layer's state closes the line: " + r.err());
        r.assertOneCleanLine();
        assertFalse(r.err().contains(root.toString()), r.err());

        Path zst = tmp.resolve("t.tar.zst");
        Process p = new ProcessBuilder("sh", "-c", "zstd -q -c " + tar + " > " + zst).start();
        assertEquals(0, p.waitFor());
        byte[] z = Files.readAllBytes(zst);
        Files.write(zst, Arrays.copyOf(z, z.length / 2));
        assertEquals(0, strata("-s", "vfs", "create", "t2").code());
        Result rz = strata("-s", "vfs", "apply", "t2", zst.toString());
        assertEquals(1, rz.code(), rz.err());
        assertTrue(rz.err().startsWith("strata: apply t2: the input ends early"), rz.err());
        rz.assertOneCleanLine();
        assertFalse(rz.err().contains(root.toString()), rz.err());

        // plain tars cut short: between entries there is no entry to name, so the line says where the stream broke
        Path garbage = Files.write(tmp.resolve("garbage"), "garbage\n".getBytes());
        expect(1, "strata: apply t1: not a valid tar stream: the input ends after 8 bytes, inside the first 512-byte header; layer t1 unchanged",
                strata("-s", "vfs", "apply", "t1", garbage.toString()));
        byte[] plain = Files.readAllBytes(tar);
        Path inData = Files.write(tmp.resolve("in-data.tar"), Arrays.copyOf(plain, 512 + 1000));
        expect(1, "strata: apply t1: refused tar entry \"random\": archive ends inside the entry's data (99000 of 100000 bytes missing); layer t1 unchanged",
                strata("-s", "vfs", "apply", "t1", inData.toString()));
        Path inPadding = Files.write(tmp.resolve("in-padding.tar"), Arrays.copyOf(plain, 512 + 100_000 + 100));
        expect(1, "strata: apply t1: refused tar entry \"random\": archive ends inside the padding after the entry's data; layer t1 unchanged",
                strata("-s", "vfs", "apply", "t1", inPadding.toString()));
        Path inHeader = Files.write(tmp.resolve("in-header.tar"), Arrays.copyOf(plain, 512 + 100_352 + 100));
        expect(1, "strata: apply t1: not a valid tar stream: archive ends inside the header after entry \"random\" (100 of 512 bytes); layer t1 unchanged",
                strata("-s", "vfs", "apply", "t1", inHeader.toString()));
        // as Go's archive/tar: an input that stops right after an entry's data (no padding, no end blocks) ends the archive
        Path noPadding = Files.write(tmp.resolve("no-padding.tar"), Arrays.copyOf(plain, 512 + 100_000));
        assertEquals(0, strata("-s", "vfs", "apply", "t1", noPadding.toString()).code());

        Result missing = strata("-s", "vfs", "diff", "t1", "--output", "/nonexistent/x.tar");
        expect(1, "strata: diff t1: /nonexistent: no such file or directory", missing);
    }

    @Test
    void aReadOnlyRootIsSaidPlainly() throws Exception {
        Path ro = Files.createDirectory(tmp.resolve("ro"));
        Mounts.mount("strata-test-ro", ro, "tmpfs", 1 /* MS_RDONLY */, "size=1m");
        Result vfs = run("--root", ro.toString(), "-s", "vfs", "create", "x");
        expect(1, "strata: create x: " + ro.resolve("vfs") + ": read-only file system", vfs);
        Result overlay = run("--root", ro.toString(), "-s", "overlay", "create", "x");
        expect(1, "strata: create x: read-only file system (storage root " + ro + ")", overlay);
    }

    @Test
    void usageErrorsExitTwoAndNameWhatIsValid() {
        expect(2, "strata: layers: malformed option \"novalue\" (expected key=value)", strata("-s", "vfs", "-o", "novalue", "layers"));
        expect(2, "strata: create-rw t4: unknown --layer-opt bogus (valid keys: size)", strata("-s", "vfs", "create-rw", "t4", "--layer-opt", "bogus=1"));
        expect(2, "strata: create-rw t4: unknown --layer-opt bogus (valid keys: size, inodes)", strata("-s", "overlay", "create-rw", "t4", "--layer-opt", "bogus=1"));
        Result nosuch = strata("-s", "nosuch", "layers");
        assertEquals(2, nosuch.code());
        assertTrue(nosuch.err().startsWith("strata: layers: unknown storage driver \"nosuch\" (drivers: "), nosuch.err());
        // -o is a driver option everywhere: after diff it is not a file name.
        assertEquals(0, strata("-s", "vfs", "create", "c1").code());
        Result path = strata("-s", "vfs", "diff", "c1", "-o", tmp.resolve("x.tar").toString());
        expect(2, "strata: diff c1: malformed option \"" + tmp.resolve("x.tar") + "\" (expected key=value)", path);
        assertFalse(Files.exists(tmp.resolve("x.tar")));
        Result json = strata("-s", "vfs", "--json", "diff", "c1");
        expect(2, "strata: diff c1: --json needs --output FILE: the tar would go to stdout with the JSON", json);
    }

    @Test
    void helpExitsZeroAndAnUnknownCommandTwo() {
        Result help = run("help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().contains("Exit codes:") && help.out().contains("create-rw"), help.out());
        Result unknown = run("snapshots", "--help");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().startsWith("strata: unknown command \"snapshots\" (commands: drivers, "), unknown.err());
        assertEquals("", unknown.out());
        Result plugin = run("plugin");
        assertEquals(2, plugin.code(), plugin.err());
        Result snapshotter = run("snapshotter");
        assertEquals(2, snapshotter.code(), snapshotter.err());
    }

    private static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(b)) {
            g.write(data);
        }
        return b.toByteArray();
    }
}
