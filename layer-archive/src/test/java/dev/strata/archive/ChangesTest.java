package dev.strata.archive;

import dev.strata.testsupport.Tmpfs;
import dev.strata.api.Change;
import dev.strata.nativeio.PosixFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** TreeChanges against moby's ChangesDirs rules, and writeChanges as moby's ExportChanges. */
class ChangesTest {
    private Tmpfs fs;
    private Path parent, layer;

    @BeforeEach
    void trees() throws Exception {
        fs = Tmpfs.mount("256m");
        parent = fs.dir("parent");
        Files.createDirectories(parent.resolve("dir1/sub"));
        Files.createDirectories(parent.resolve("dir2"));
        Files.createDirectories(parent.resolve("gone-dir/deep"));
        Files.writeString(parent.resolve("gone-dir/deep/f"), "x");
        Files.writeString(parent.resolve("dir1/file"), "one");
        Files.writeString(parent.resolve("dir1/sub/same"), "same");
        Files.writeString(parent.resolve("dir2/mode"), "mode");
        Files.writeString(parent.resolve("dir2/gone"), "gone");
        Files.writeString(parent.resolve("becomes-dir"), "file");
        Files.copy(Path.of("/bin/true"), parent.resolve("cap"));
        layer = fs.dir("layer");
        TreeTools.run(null, "cp", "-a", parent + "/.", layer.toString());
    }

    @AfterEach
    void unmount() {
        if (fs != null) fs.close();
    }

    private static List<String> strings(List<Change> l) {
        return l.stream().map(Change::toString).toList();
    }

    @Test
    void reportsAsMobyChangesDirsDoes() throws Exception {
        Files.writeString(layer.resolve("dir1/file"), "one, rewritten");
        PosixFiles.fchmodat(null, layer.resolve("dir2/mode").toString(), 0600, 0);
        Files.delete(layer.resolve("dir2/gone"));
        TreeTools.run(null, "rm", "-rf", layer.resolve("gone-dir").toString());
        Files.delete(layer.resolve("becomes-dir"));
        Files.createDirectories(layer.resolve("becomes-dir/inner"));
        Files.createDirectories(layer.resolve("new/deeper"));
        Files.writeString(layer.resolve("new/deeper/f"), "f");
        TreeTools.assumeTool("setcap");
        TreeTools.run(null, TreeTools.setcap(), "cap_net_raw+ep", layer.resolve("cap").toString());
        assertEquals(List.of(
                "C /becomes-dir", "A /becomes-dir/inner",
                "C /cap",
                "C /dir1", "C /dir1/file",
                "C /dir2", "D /dir2/gone", "C /dir2/mode",
                "D /gone-dir",
                "A /new", "A /new/deeper", "A /new/deeper/f"), strings(TreeChanges.between(layer, parent)));
    }

    @Test
    void noParentMeansEverythingIsAdded() {
        assertEquals(List.of("A /becomes-dir", "A /cap", "A /dir1", "A /dir1/file", "A /dir1/sub", "A /dir1/sub/same", "A /dir2",
                "A /dir2/gone", "A /dir2/mode", "A /gone-dir", "A /gone-dir/deep", "A /gone-dir/deep/f"), strings(TreeChanges.between(layer, null)));
        assertEquals(List.of(), TreeChanges.between(layer, parent));
    }

    @Test
    void sizeCountsFilesAndSymlinksAndEachHardlinkedInodeOnce() throws Exception {
        Files.writeString(layer.resolve("dir1/a"), "12345");
        Files.createLink(layer.resolve("dir1/b"), layer.resolve("dir1/a"));
        Files.createSymbolicLink(layer.resolve("dir1/l"), Path.of("abc"));
        Files.delete(layer.resolve("dir2/gone"));
        List<Change> c = TreeChanges.between(layer, parent);
        assertEquals(5 + 3, TreeChanges.size(layer, c));
        assertEquals(0, TreeChanges.size(layer, List.of(new Change("/dir2/gone", Change.Kind.DELETE))));
    }

    @Test
    void writeChangesAppliedOnTheParentGivesTheLayer() throws Exception {
        Files.writeString(layer.resolve("dir1/file"), "one, rewritten");
        Files.delete(layer.resolve("dir2/gone"));
        TreeTools.run(null, "rm", "-rf", layer.resolve("gone-dir").toString());
        Files.createDirectories(layer.resolve("new"));
        Files.writeString(layer.resolve("new/f"), "f");
        Files.writeString(layer.resolve("dir1/a"), "12345");
        Files.createLink(layer.resolve("new/b"), layer.resolve("dir1/a"));
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        LayerArchive.writeChanges(layer, TreeChanges.between(layer, parent), tar);
        Path copy = fs.dir("copy");
        TreeTools.run(null, "cp", "-a", parent + "/.", copy.toString());
        LayerArchive.apply(copy, new ByteArrayInputStream(tar.toByteArray()), ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        PosixFiles.utimensat(null, copy.toString(), 0, 0, 0);
        PosixFiles.utimensat(null, layer.toString(), 0, 0, 0);
        TreeTools.assertSameTree(layer, copy);
    }
}
