package dev.strata.snapshotter;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** containerd's filter grammar, case by case as filters/parser.go and metadata/adaptors.go decide them. */
class FiltersTest {
    private static final SnapshotInfo TARGET = new SnapshotInfo("sha256:t", "sha256:p", Kind.COMMITTED,
            Map.of("containerd.io/snapshot.ref", "sha256:t", "l", "2", "a.b", "dotted"), Instant.EPOCH, Instant.EPOCH);
    private static final SnapshotInfo PLAIN = new SnapshotInfo("k", "", Kind.ACTIVE, Map.of(), Instant.EPOCH, Instant.EPOCH);

    private static boolean m(String filter, SnapshotInfo i) {
        return Filters.parse(filter).test(i);
    }

    @Test
    void selectorsAsContainerdMatchesThem() {
        assertTrue(m("labels.\"containerd.io/snapshot.ref\"==sha256:t,parent==sha256:p", TARGET));
        assertFalse(m("labels.\"containerd.io/snapshot.ref\"==sha256:t,parent==sha256:x", TARGET));
        assertTrue(m("kind==committed", TARGET));
        assertTrue(m("name==k", PLAIN));
        assertTrue(m("parent==\"\"", PLAIN), "a quoted empty value: no parent");
        assertFalse(m("parent==\"\"", TARGET));
        assertTrue(m("labels.l", TARGET), "presence");
        assertFalse(m("labels.l", PLAIN));
        assertTrue(m("labels.l==2", TARGET));
        assertTrue(m("labels.a.b==dotted", TARGET), "unquoted dots join the label key");
        assertTrue(m("parent!=\"\",kind==committed", TARGET));
        assertTrue(m("labels.l!=3", PLAIN), "!= holds when the field is missing");
        assertTrue(m("name~=/^sha256:/", TARGET));
        assertTrue(m("name~=\"t$\"", TARGET));
        assertTrue(m(" name == k ", PLAIN), "spaces around tokens");
        assertTrue(Filters.parseAll(List.of("name==nope", "name==k")).test(PLAIN), "filters OR");
        assertTrue(Filters.parseAll(List.of()).test(PLAIN));
    }

    @Test
    void malformedFiltersAreInvalidArguments() {
        for (String bad : List.of("labels.\"open", "name==", "==x", "name==a,", "name=>a", "name~=/[/", "name==/x/")) {
            SnapshotException e = assertThrows(SnapshotException.class, () -> Filters.parse(bad), bad);
            assertEquals(SnapshotException.Reason.INVALID_ARGUMENT, e.reason(), bad);
        }
    }
}
