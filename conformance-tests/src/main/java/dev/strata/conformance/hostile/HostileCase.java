package dev.strata.conformance.hostile;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * One hostile tar.
 *
 * @param name    a stable, unique name (use it as the test's display name)
 * @param mirrors the moby {@code pkg/archive} / containerd {@code archive} test this case reproduces
 *                ("moby TestUntarInvalidSymlink"), or "strata" for a case of our own
 * @param expect  what a correct apply does
 * @param tar     builds the tar bytes; its argument is an absolute directory outside the layer that the case may aim
 *                at (populate it with {@link HostileCorpus#populateOutside} first)
 * @param inside  for an applied case, what the layer must then hold, by path ({@link Inside} tells the notation);
 *                its argument is the same outside directory; empty when only containment is checked
 */
public record HostileCase(String name, String mirrors, Expect expect, Function<Path, byte[]> tar,
                          Function<Path, Map<String, String>> inside) {
    public HostileCase(String name, String mirrors, Expect expect, Function<Path, byte[]> tar) {
        this(name, mirrors, expect, tar, p -> Map.of());
    }

    /** What is wrong with the applied layer under {@code layerRoot} for this case; empty when it is as expected. */
    public java.util.List<String> insideProblems(Path layerRoot, Path outside) {
        return Inside.problems(layerRoot, inside.apply(outside));
    }

    public enum Expect {
        /**
         * Apply must throw a {@link dev.strata.api.StorageException} whose message names the offending entry
         * (Strata's own apply throws {@link dev.strata.archive.UnsafeEntryException} for every policy refusal), and
         * nothing outside the layer changes.
         */
        REFUSED,
        /**
         * Apply may succeed (Strata's own apply does), and nothing outside the layer changes: whatever the tar aims
         * at the outside directory lands inside the layer or nowhere.
         */
        APPLIED_SAFELY
    }

    @Override
    public String toString() {
        return name;
    }
}
