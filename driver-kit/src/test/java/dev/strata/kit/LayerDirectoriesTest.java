package dev.strata.kit;

import dev.strata.api.LayerExistsException;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.WhiteoutFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer directories that are never partial in place: staged, published, retired, and found when cut short. */
class LayerDirectoriesTest {
    @TempDir
    Path dir;

    @Test
    void aStagedLayerIsOnlyInPlaceOncePublishedAndPublishNeverReplaces() throws Exception {
        LayerDirectories dirs = new LayerDirectories(dir);
        Path staged = dirs.stage("a");
        Files.writeString(staged.resolve("f"), "x");
        assertFalse(Files.exists(dirs.layer("a")), "nothing in place while it is filled");
        assertEquals(Set.of("a"), dirs.cutShort(), "a create cut short now is found by its id");
        dirs.publish("create", "a");
        assertEquals("x", Files.readString(dirs.layer("a").resolve("f")));
        assertEquals(Set.of(), dirs.cutShort());

        Files.writeString(dirs.stage("a").resolve("g"), "y");
        assertThrows(LayerExistsException.class, () -> dirs.publish("create", "a"));
        assertEquals("x", Files.readString(dirs.layer("a").resolve("f")), "the layer in place is untouched");
        dirs.unstage("a");
        assertEquals(List.of("a"), names());
    }

    @Test
    void publishReplacingTakesTheDirectoryInTheWayAndLeavesNothingAside() throws Exception {
        LayerDirectories dirs = new LayerDirectories(dir);
        Files.writeString(Files.createDirectories(dirs.layer("a")).resolve("stray"), "s");
        Files.writeString(dirs.stage("a").resolve("f"), "x");
        dirs.publishReplacing("create", "a");
        assertEquals(List.of("f"), names(dirs.layer("a")));
        assertEquals(List.of("a"), names());
    }

    @Test
    void aStageSweepsWhatALostCreateLeft() throws Exception {
        LayerDirectories dirs = new LayerDirectories(dir);
        Files.writeString(dirs.stage("a").resolve("half"), "h");
        assertEquals(List.of(), names(dirs.stage("a")), "an empty staging, the half copy gone");
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dirs.stage("a"))));
    }

    @Test
    void aRetiredLayerIsNeverPartialInPlaceAndTheSweepTakesEverythingOfItsId() throws Exception {
        LayerDirectories dirs = new LayerDirectories(dir);
        Files.writeString(dirs.stage("a").resolve("f"), "x");
        dirs.publish("create", "a");
        Files.createDirectories(dir.resolve("b"));
        assertTrue(dirs.retire("a"));
        assertFalse(Files.exists(dirs.layer("a")));
        assertEquals(Set.of("a"), dirs.cutShort(), "a remove cut short now is found by its id");
        Files.createDirectories(dir.resolve(LayerDirectories.NEW + "a"));
        dirs.sweep("a");
        assertFalse(dirs.retire("a"), "nothing left to retire");
        assertEquals(List.of("b"), names(), "another id's directory untouched");
    }

    @Test
    void aRetireMovesAsideWhatAnEarlierRemoveOfTheIdLeftInTheWay() throws Exception {
        LayerDirectories dirs = new LayerDirectories(dir);
        Files.createDirectories(dir.resolve(LayerDirectories.REMOVING + "a").resolve("old"));
        Files.createDirectories(dirs.layer("a").resolve("new"));
        assertTrue(dirs.retire("a"));
        assertEquals(List.of("new"), names(dir.resolve(LayerDirectories.REMOVING + "a")));
    }

    @Test
    void cutShortNamesTheIdsOfEveryKindOfLeftoverAndNothingElse() throws Exception {
        for (String n : List.of(".new-c", ".removing-r", ".apply-p", ".apply-q.old", ".apply-x.old.old", ".strata", ".new-", "layer", ".other-z")) {
            Files.createDirectories(dir.resolve(n));
        }
        assertEquals(Set.of("c", "r", "p", "q.old", "x.old.old"), new LayerDirectories(dir).cutShort());
        assertEquals(Set.of(), new LayerDirectories(dir.resolve("missing")).cutShort());
    }

    /** Ids x and x.old are both valid: an apply of one, dropped or after a crash, never touches what the other's staged. */
    @Test
    void anApplyOfOneIdNeverTouchesWhatAnApplyOfAnotherStaged() throws Exception {
        LayerDirectories dirs = new LayerDirectories(dir);
        for (String id : List.of("x", "x.old")) Files.writeString(Files.createDirectories(dirs.layer(id)).resolve("f"), id);
        ApplyOptions options = ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE);
        DirectoryStaging other = dirs.stageApply("x.old", options, null);
        Files.writeString(other.root().resolve("applied"), "a");
        dirs.stageApply("x", options, null).discard();
        dirs.discardApply("x");
        assertEquals(Set.of("x.old"), dirs.cutShort(), "only x.old's apply is found, by its own id");
        other.commit();
        other.discard();
        assertEquals(List.of("applied", "f"), names(dirs.layer("x.old")));
        assertEquals("x", Files.readString(dirs.layer("x").resolve("f")));
        assertEquals(List.of("x", "x.old"), names(), "nothing staged is left");
    }

    private List<String> names() throws Exception {
        return names(dir);
    }

    private static List<String> names(Path d) throws Exception {
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
