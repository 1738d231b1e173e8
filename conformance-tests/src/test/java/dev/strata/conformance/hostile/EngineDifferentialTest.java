package dev.strata.conformance.hostile;

import dev.strata.testsupport.Tmpfs;
import dev.strata.api.StorageException;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.LayerArchive;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.nativeio.Kernel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * "Accepts what the engines accept", measured: every case of the hostile corpus (engine-compat cases included) is
 * applied by containerd 1.6's {@code archive.Apply} and by moby 20.10's chrooted {@code ApplyLayer} (both through
 * {@code src/test/go/src/enginetar}, built here against Debian's Go packages) and by {@link LayerArchive#apply}, each
 * into its own empty directory. Then:
 * <ul>
 *   <li>a case both engines accept must be accepted, and Strata's tree must equal one engine's tree;</li>
 *   <li>a case both engines refuse must be refused;</li>
 *   <li>where the engines disagree, Strata may side with either (listed in the report);</li>
 *   <li>nothing outside the layer changes, for any of the three.</li>
 * </ul>
 * The report (one line a case) is printed and written to {@code target/engine-differential.txt}. Skipped, with the
 * reason, without root or without Go and Debian's containerd and moby Go sources ({@code scripts/setup} installs them).
 */
class EngineDifferentialTest {
    private static final Path GOPATH_SYSTEM = Path.of("/usr/share/gocode");
    private static final String[] ENGINES = {"containerd", "moby"};
    private static Tmpfs fs;

    private static final String CLIMB = "a relative name that climbs above the root is refused (DESIGN.md, Safety); "
            + "the engines clamp it to the root";

    /**
     * Where Strata knowingly differs from both engines, and why. Each is still checked for containment, and these
     * cases may stop differing without failing the test.
     */
    static final Map<String, String> KNOWN = Map.ofEntries(
            Map.entry("name-dotdot", CLIMB), Map.entry("name-dotdot-climb-to-outside", CLIMB), Map.entry("name-inner-dotdot", CLIMB),
            Map.entry("name-pax-path-overrides-ustar", CLIMB), Map.entry("name-gnu-longname-escape", CLIMB),
            Map.entry("sparse-name-escape", CLIMB),
            Map.entry("name-global-pax-path-ignored", "a global header is ignored; the engines also make the directories above its "
                    + "path record (Go's reader returns it as an entry named by that record)"),
            Map.entry("aufs-metadata-skipped", "aufs metadata (.wh..wh.*) is skipped, as moby means to: moby still makes "
                    + ".wh..wh.plnk as the parent of the entries it skips, containerd applies them as files"),
            Map.entry("xattr-user-overlay-opaque", "overlayfs' own xattrs never come from a tar: they would change how the layer stacks"),
            Map.entry("uid-out-of-range", "ids above 2^32-1 are refused; the engines hand them to chown, which takes the low 32 bits "
                    + "(2^40 becomes root)"));

    @BeforeAll
    static void mount() {
        assumeTrue(Kernel.isRoot(), "the engines' apply (moby's pivot_root, chown, mknod) needs root");
        fs = Tmpfs.mount("512m");
    }

    @AfterAll
    static void unmount() {
        if (fs != null) fs.close();
    }

    /** Builds enginetar into target/, reusing the Go build cache of the user; skips when Go or the sources are missing. */
    static Path buildEngineTar() throws Exception {
        Path go = findGo();
        assumeTrue(go != null, "no go command (Debian package golang-go; scripts/setup installs it)");
        for (String pkg : List.of("github.com/containerd/containerd/archive", "github.com/docker/docker/pkg/chrootarchive")) {
            assumeTrue(Files.isDirectory(GOPATH_SYSTEM.resolve("src").resolve(pkg)),
                    "no Go source of " + pkg + " under " + GOPATH_SYSTEM + " (Debian golang-github-containerd-containerd-dev, "
                            + "golang-github-docker-docker-dev; scripts/setup installs them)");
        }
        Path src = Path.of("src/test/go").toAbsolutePath();
        Path out = Path.of("target/enginetar").toAbsolutePath();
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "strata", "go-build");
        Files.createDirectories(cache);
        ProcessBuilder pb = new ProcessBuilder(go.toString(), "build", "-o", out.toString(), "enginetar")
                .directory(src.resolve("src/enginetar").toFile()).redirectErrorStream(true);
        pb.environment().put("GO111MODULE", "off");
        pb.environment().put("GOPATH", GOPATH_SYSTEM + ":" + src);
        pb.environment().put("GOCACHE", cache.toString());
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("go build of enginetar took over 5 minutes");
        }
        if (p.exitValue() != 0) fail("go build of enginetar failed:\n" + log);
        return out;
    }

    private static Path findGo() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/lib/go/bin:/usr/local/go/bin").split(":")) {
            if (dir.isEmpty()) continue;
            Path g = Path.of(dir, "go");
            if (Files.isExecutable(g)) return g;
        }
        return null;
    }

    /** One applier's outcome: null error means accepted; the tree is the layer's snapshot, outside paths made uniform. */
    record Outcome(String error, Map<String, String> tree, boolean outsideChanged) {
        boolean accepted() {
            return error == null;
        }
    }

    @Test
    void strataAcceptsWhatBothEnginesAcceptAndRefusesWhatBothRefuse() throws Exception {
        Path engineTar = buildEngineTar();
        List<HostileCase> cases = HostileCorpus.cases(true);
        long testStart = System.currentTimeMillis() * 1_000_000L;
        Path root = fs.path();
        // one outside directory per applier, names of equal length, so the tars differ only in that letter
        Map<String, List<String>> engineArgs = new LinkedHashMap<>();
        for (String e : ENGINES) engineArgs.put(e, new ArrayList<>());
        List<Map<String, Outcome>> outcomes = new ArrayList<>();
        List<Map<String, Map<String, String>>> outsideBefore = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            HostileCase c = cases.get(i);
            Path box = Files.createDirectories(root.resolve("case-" + i));
            Map<String, Outcome> byApplier = new LinkedHashMap<>();
            Map<String, Map<String, String>> before = new LinkedHashMap<>();
            for (String who : List.of("strata", "containerd", "moby")) {
                Path outside = Files.createDirectories(box.resolve("outside-" + who.charAt(0)));
                HostileCorpus.populateOutside(outside);
                before.put(who, HostileCorpus.snapshot(outside));
                Path layer = Files.createDirectories(box.resolve("layer-" + who.charAt(0)));
                byte[] tar = c.tar().apply(outside);
                if (who.equals("strata")) {
                    String error = null;
                    try {
                        LayerArchive.apply(layer, new ByteArrayInputStream(tar), new ApplyOptions(WhiteoutFormat.DELETE_IN_PLACE, true));
                    } catch (StorageException e) {
                        error = e.getMessage();
                    }
                    byApplier.put(who, new Outcome(error, tree(layer), !before.get(who).equals(HostileCorpus.snapshot(outside))));
                } else {
                    Path tarFile = box.resolve(who + ".tar");
                    Files.write(tarFile, tar);
                    engineArgs.get(who).add(tarFile.toString());
                    engineArgs.get(who).add(layer.toString());
                }
            }
            outcomes.add(byApplier);
            outsideBefore.add(before);
        }
        for (String e : ENGINES) {
            List<String> cmd = new ArrayList<>(List.of(engineTar.toString(), e));
            cmd.addAll(engineArgs.get(e));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            assertEquals(0, p.waitFor(), "enginetar " + e + " failed");
            assertEquals(cases.size(), lines.size(), "enginetar " + e + " answered " + lines.size() + " of " + cases.size() + " cases");
            for (int i = 0; i < cases.size(); i++) {
                Path box = root.resolve("case-" + i);
                Path layer = box.resolve("layer-" + e.charAt(0));
                String line = lines.get(i);
                boolean changed = !outsideBefore.get(i).get(e).equals(HostileCorpus.snapshot(box.resolve("outside-" + e.charAt(0))));
                outcomes.get(i).put(e, new Outcome(line.equals("ok") ? null : line.substring("error: ".length()), tree(layer), changed));
            }
        }

        List<String> report = new ArrayList<>(), failures = new ArrayList<>();
        int agree = 0, disagreeEngines = 0, knownCount = 0;
        for (int i = 0; i < cases.size(); i++) {
            HostileCase c = cases.get(i);
            Outcome s = outcomes.get(i).get("strata"), cd = outcomes.get(i).get("containerd"), m = outcomes.get(i).get("moby");
            String verdict;
            for (var o : outcomes.get(i).entrySet()) {
                if (o.getValue().outsideChanged()) failures.add(c.name() + ": " + o.getKey() + " changed the directory outside the layer");
            }
            List<String> insideProblems = s.accepted() ? c.insideProblems(root.resolve("case-" + i).resolve("layer-s"),
                    root.resolve("case-" + i).resolve("outside-s")) : List.of();
            if (!insideProblems.isEmpty()) failures.add(c.name() + ": Strata's layer is not as the case expects: " + insideProblems);
            String known = KNOWN.get(c.name());
            if (cd.accepted() && m.accepted()) {
                if (!s.accepted()) {
                    verdict = "DIFFERS: both engines accept, Strata refuses: " + s.error();
                    if (known == null) failures.add(c.name() + ": " + verdict);
                    else verdict = "known difference: " + known;
                } else {
                    List<String> dc = differences(cd.tree(), s.tree(), testStart), dm = differences(m.tree(), s.tree(), testStart);
                    if (dc.isEmpty() || dm.isEmpty()) {
                        verdict = "agree (accepted; tree = " + (dc.isEmpty() && dm.isEmpty() ? "both" : dc.isEmpty() ? "containerd's" : "moby's") + ")";
                        agree++;
                    } else {
                        verdict = "DIFFERS: accepted, tree unlike either engine's: containerd " + dc + "; moby " + dm;
                        if (known == null) failures.add(c.name() + ": " + verdict);
                        else verdict = "known difference: " + known;
                    }
                }
            } else if (!cd.accepted() && !m.accepted()) {
                if (s.accepted()) {
                    verdict = "DIFFERS: both engines refuse, Strata accepts (containerd: " + cd.error() + "; moby: " + m.error() + ")";
                    if (known == null) failures.add(c.name() + ": " + verdict);
                    else verdict = "known difference: " + known;
                } else {
                    verdict = "agree (refused)";
                    agree++;
                }
            } else {
                disagreeEngines++;
                Outcome acc = cd.accepted() ? cd : m;
                String accName = cd.accepted() ? "containerd" : "moby", refName = cd.accepted() ? "moby" : "containerd";
                String refErr = cd.accepted() ? m.error() : cd.error();
                if (s.accepted()) {
                    List<String> d = differences(acc.tree(), s.tree(), testStart);
                    verdict = "engines disagree (" + accName + " accepts, " + refName + " refuses: " + refErr + "); Strata accepts"
                            + (d.isEmpty() ? " with " + accName + "'s tree" : ", tree differs from " + accName + "'s: " + d);
                } else {
                    verdict = "engines disagree (" + accName + " accepts, " + refName + " refuses: " + refErr + "); Strata refuses: " + s.error();
                }
            }
            if (verdict.startsWith("known difference")) knownCount++;
            report.add(String.format("%-52s %s", c.name(), verdict));
        }
        String summary = cases.size() + " cases: " + agree + " agree with both engines, " + disagreeEngines
                + " where the engines disagree with each other, " + knownCount + " known differences, " + failures.size() + " failures";
        report.add(summary);
        Files.write(Path.of("target/engine-differential.txt"), report);
        System.out.println(String.join("\n", report));
        if (!failures.isEmpty()) fail(summary + ":\n  " + String.join("\n  ", failures));
    }

    /** The layer's snapshot with the per-applier outside directory names made the same. */
    private static Map<String, String> tree(Path layer) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (var e : HostileCorpus.snapshot(layer).entrySet()) {
            out.put(uniform(e.getKey()), uniform(e.getValue()));
        }
        return out;
    }

    private static String uniform(String s) {
        return s.replaceAll("outside-[scm]", "outside-X").replaceAll("layer-[scm]", "layer-X");
    }

    /**
     * Paths whose description differs. A directory's mtime is left out of the comparison when both are from this
     * run (a directory made implicitly, or whose contents changed after its entry): those are "now" for everyone;
     * so is the layer root's.
     */
    static List<String> differences(Map<String, String> engine, Map<String, String> strata, long testStartNanos) {
        List<String> d = new ArrayList<>();
        for (String k : new TreeSet<>(union(engine.keySet(), strata.keySet()))) {
            String a = engine.get(k), b = strata.get(k);
            if (a == null) {
                d.add("+" + k);
            } else if (b == null) {
                d.add("-" + k);
            } else if (!comparable(k, a, testStartNanos).equals(comparable(k, b, testStartNanos))) {
                d.add(k + ": " + a + " vs " + b);
            }
            if (d.size() >= 6) break;
        }
        return d;
    }

    private static java.util.Set<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        java.util.Set<String> u = new TreeSet<>(a);
        u.addAll(b);
        return u;
    }

    private static String comparable(String path, String description, long testStartNanos) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" mtime=(-?\\d+)").matcher(description);
        if (path.isEmpty() && m.find()) {
            // the layer root's time: containerd ignores a root entry, moby's apply changes the root after it (its
            // temporary directory); Strata applies the entry's time
            return m.replaceFirst(" mtime=now");
        }
        m.reset();
        if (description.startsWith("dir") && m.find() && Long.parseLong(m.group(1)) >= testStartNanos - 5_000_000_000L) {
            return m.replaceFirst(" mtime=now");
        }
        return description;
    }
}
