package dev.strata.archive;

import dev.strata.nativeio.Xattrs;
import dev.strata.testsupport.Tmpfs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 3's acceptance: diff then apply keeps a tree byte for byte, and GNU tar agrees both ways. */
class RoundTripTest {
    private Tmpfs fs;

    @BeforeEach
    void mount() {
        fs = Tmpfs.mount("3g");
    }

    @AfterEach
    void unmount() {
        if (fs != null) fs.close();
    }

    @Test
    void diffThenApplyKeepsEverythingByteForByte() throws Exception {
        Path src = fs.dir("src"), dst = fs.dir("dst");
        TreeTools.acceptanceTree(src);
        long applied;
        try (InputStream tar = LayerArchive.tree(src)) {
            applied = LayerArchive.apply(dst, tar, new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true));
        }
        TreeTools.assertSameTree(src, dst);
        assertTrue(TreeTools.run(dst, "getfattr", "-n", "security.capability", "-e", "hex", "bin/ping").contains("security.capability=0x"));
        assertEquals("cap_net_raw=ep", TreeTools.run(null, "/usr/sbin/getcap", dst.resolve("bin/ping").toString()).trim().replaceAll("^\\S+\\s+", ""));
        // a sparse 1 GiB file keeps its holes: only a few blocks allocated
        long blocks = Long.parseLong(TreeTools.run(dst, "stat", "-c", "%b", "sparse").trim());
        assertTrue(blocks < 64, "sparse file allocates " + blocks + " blocks");
        long regular = 0; // the tar's regular entries; links/b is a hardlink entry of size 0
        for (String f : new String[]{"bin/ping", "bin/suid", "big-ids", "links/a", TreeTools.LONG_PATH, "sparse"}) regular += Files.size(src.resolve(f));
        assertEquals(regular, applied, "apply returns the sum of the regular entries' sizes");
    }

    @Test
    void aTarFileIsAppliedThroughItsChannelWithTheSameResult() throws Exception {
        Path src = fs.dir("src"), dst = fs.dir("dst");
        TreeTools.acceptanceTree(src);
        byte[] big = new byte[(5 << 20) + 123]; // above the size that goes through copy_file_range
        new java.util.Random(7).nextBytes(big);
        Files.write(src.resolve("big"), big);
        Path tar = fs.path().resolve("ours.tar");
        try (var out = Files.newOutputStream(tar)) {
            LayerArchive.writeTree(src, out);
        }
        try (InputStream in = new java.io.FileInputStream(tar.toFile())) {
            LayerArchive.apply(dst, in, new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true));
        }
        TreeTools.assertSameTree(src, dst);
    }

    @Test
    void gnuTarReadsOurTar() throws Exception {
        TreeTools.assumeTool("tar");
        Path src = fs.dir("src"), dst = fs.dir("gnu");
        TreeTools.acceptanceTree(src);
        Path tar = fs.path().resolve("ours.tar");
        try (var out = Files.newOutputStream(tar)) {
            LayerArchive.writeTree(src, out);
        }
        TreeTools.run(dst, "tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar.toString());
        TreeTools.assertSameTree(src, dst);
    }

    @Test
    void weReadGnuTarPosixWithXattrsAndSparse() throws Exception {
        TreeTools.assumeTool("tar");
        Path src = fs.dir("src"), dst = fs.dir("dst");
        TreeTools.acceptanceTree(src);
        Path tar = fs.path().resolve("gnu.tar");
        TreeTools.run(src, "tar", "--format=posix", "--xattrs", "--xattrs-include=*", "--sparse", "--numeric-owner", "-cf", tar.toString(), ".");
        try (InputStream in = Files.newInputStream(tar)) {
            LayerArchive.apply(dst, in, new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true));
        }
        TreeTools.assertSameTree(src, dst);
    }

    /** GNU tar's other sparse encodings: old GNU ('S' headers) and PAX 0.0 / 0.1, each with holes kept. */
    @Test
    void weReadEveryGnuSparseFlavour() throws Exception {
        TreeTools.assumeTool("tar");
        Path src = fs.dir("src");
        try (var ch = java.nio.channels.FileChannel.open(src.resolve("holes"), java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            for (int i = 0; i < 40; i++) ch.write(java.nio.ByteBuffer.wrap(("region " + i).getBytes()), (long) i << 22); // > 4 + 21 regions
            ch.write(java.nio.ByteBuffer.wrap(new byte[]{0}), (200L << 20) - 1); // ends in data after a hole
        }
        // the old GNU format keeps whole seconds only
        dev.strata.nativeio.PosixFiles.utimensat(null, src.resolve("holes").toString(), 0, 1_700_000_000_000_000_000L, 0);
        dev.strata.nativeio.PosixFiles.utimensat(null, src.toString(), 0, 1_700_000_000_000_000_000L, 0);
        String[][] flavours = {{"--format=gnu"}, {"--format=posix", "--sparse-version=0.0"}, {"--format=posix", "--sparse-version=0.1"},
                {"--format=posix", "--sparse-version=1.0"}};
        for (String[] f : flavours) {
            Path tar = fs.path().resolve("sparse.tar");
            List<String> cmd = new java.util.ArrayList<>(List.of("tar", "--sparse", "--numeric-owner", "-cf", tar.toString()));
            cmd.addAll(1, List.of(f));
            cmd.add(".");
            TreeTools.run(src, cmd.toArray(new String[0]));
            Path dst = fs.dir("dst-" + String.join("", f).replaceAll("[^a-z0-9.]", ""));
            try (InputStream in = Files.newInputStream(tar)) {
                LayerArchive.apply(dst, in, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
            }
            TreeTools.assertSameTree(src, dst);
            Files.delete(tar);
        }
    }

    @Test
    void xattrListsAndValuesLongerThanTheFirstReadKeepEveryByte() throws Exception {
        Path src = fs.dir("src"), dst = fs.dir("dst");
        Path file = src.resolve("f"), dir = Files.createDirectories(src.resolve("d"));
        Files.writeString(file, "data\n");
        byte[] large = new byte[3000]; // over the 1 KiB the xattr calls try first
        new java.util.Random(3).nextBytes(large);
        for (Path p : List.of(file, dir)) { // a file's list is read through its fd, a directory's by name
            for (int i = 0; i < 40; i++) Xattrs.set(p, "user." + "n".repeat(30) + i, new byte[]{(byte) i}); // a 1.4 KiB list
            Xattrs.set(p, "user.large", large);
        }
        try (InputStream tar = LayerArchive.tree(src)) {
            LayerArchive.apply(dst, tar, new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true));
        }
        TreeTools.assertSameTree(src, dst);
        assertTrue(TreeTools.xattrs(dst).contains("user." + "n".repeat(30) + "39=0x27"), TreeTools.xattrs(dst));
    }

    @Test
    void gzipAndZstdAreDetectedByTheirMagic() throws Exception {
        Path src = fs.dir("src");
        Files.writeString(src.resolve("f"), "compressed\n");
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        LayerArchive.writeTree(src, plain);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(gz)) {
            z.write(plain.toByteArray());
        }
        byte[] zst = com.github.luben.zstd.Zstd.compress(plain.toByteArray());
        for (byte[] b : new byte[][]{gz.toByteArray(), zst}) {
            Path dst = fs.dir("dst" + b.length);
            LayerArchive.apply(dst, new ByteArrayInputStream(b), ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
            TreeTools.assertSameTree(src, dst);
        }
    }
}
