package dev.strata.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.api.DriverRegistry;
import dev.strata.conformance.RunReport.CaseResult;
import dev.strata.conformance.RunReport.DriverReport;
import dev.strata.conformance.RunReport.Status;
import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

/** The runner end to end through the JUnit Platform launcher, against the kit's fake providers. */
class RunnerTest {
    @Test
    void anUnsupportedDriverSkipsEveryCaseWithItsReason(@TempDir Path tmp) throws Exception {
        assumeTrue(Kernel.isRoot(), "the suite mounts a scratch tmpfs and needs root; without it the reason differs");
        StringWriter out = new StringWriter();
        Path report = tmp.resolve("report.json");
        int status = ConformanceRunner.execute(new String[]{"-s", "never", "--storage-opt", "never.size=1G", "--report", report.toString()},
                new PrintWriter(out, true), new PrintWriter(new StringWriter()));
        assertEquals(0, status, "nothing failed, so the exit status is 0");

        JsonNode json = new ObjectMapper().readTree(Files.readString(report));
        JsonNode results = json.get("drivers").get(0).get("results");
        assertEquals("never", json.get("drivers").get(0).get("driver").asText());
        assertEquals("never.size=1G", json.get("drivers").get(0).get("options").get(0).asText());
        assertTrue(results.size() >= 33, "every case reported, got " + results.size());
        for (JsonNode r : results) {
            assertEquals("SKIPPED", r.get("status").asText(), r.toString());
            assertTrue(r.get("message").asText().contains(FakeProviders.Never.REASON), r.toString());
        }

        String matrix = out.toString();
        assertTrue(matrix.contains("moby: CreateEmpty"), matrix);
        assertTrue(matrix.contains("containerd: 128LayersMount"), matrix);
        assertTrue(matrix.contains("[1] never skipped: never cannot run here: " + FakeProviders.Never.REASON), matrix);
        assertTrue(matrix.lines().filter(l -> l.startsWith("moby: ") || l.startsWith("containerd: ") || l.startsWith("strata: "))
                .allMatch(l -> l.endsWith("skip[1]")), matrix);
    }

    @Test
    void anUnknownDriverIsAUsageErrorThatListsTheKnownOnes() {
        StringWriter err = new StringWriter();
        int status = ConformanceRunner.execute(new String[]{"-s", "nope"}, new PrintWriter(new StringWriter()), new PrintWriter(err, true));
        assertEquals(2, status);
        String e = err.toString();
        assertTrue(e.contains("nope") && e.contains("dirs") && e.contains("never"), e);
    }

    record Declares(String name, List<String> keys) implements dev.strata.api.DriverProvider {
        public int priority() {
            return 0;
        }

        public List<dev.strata.api.OptionSpec> options() {
            return keys.stream().map(k -> dev.strata.api.OptionSpec.string(k, k)).toList();
        }

        public dev.strata.api.Support probe(java.nio.file.Path home) {
            return dev.strata.api.Support.yes("test");
        }

        public dev.strata.api.StorageDriver open(dev.strata.api.DriverContext c) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void storageOptionsGoToTheDriversThatDeclareTheirKeyAndUnknownOnesToAll() {
        var devmapper = new Declares("devmapper", List.of("dm.basesize"));
        var vfs = new Declares("vfs", List.of("vfs.size"));
        List<String> opts = List.of("dm.basesize=48M", "vfs.size=1G", "bogus.key=1");
        List<dev.strata.api.DriverProvider> all = List.of(devmapper, vfs);
        assertEquals(List.of("dm.basesize=48M", "bogus.key=1"), ConformanceRunner.optionsFor(devmapper, opts, all));
        assertEquals(List.of("vfs.size=1G", "bogus.key=1"), ConformanceRunner.optionsFor(vfs, opts, all));
    }

    @Test
    void aLeakedMountFailsItsTestAndNoLeftoversAndIsRemoved() {
        assumeTrue(Kernel.isRoot(), "the suite mounts a scratch tmpfs and needs root");
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectMethod(LeakyDriverSuite.class, "removeWhileMounted"),
                        selectMethod(LeakyDriverSuite.class, "noLeftovers"))
                .configurationParameter(LeakyDriverSuite.LAUNCHED_BY, "true")
                .build();
        ResultCollector collector = new ResultCollector("leaky", null);
        LauncherFactory.create().execute(request, collector);
        Map<String, CaseResult> byName = collector.results().stream()
                .collect(Collectors.toMap(CaseResult::test, Function.identity()));

        CaseResult removed = byName.get("strata: RemoveWhileMounted");
        assertEquals(Status.FAIL, removed.status(), removed.toString());
        assertTrue(removed.message().contains("left after cleanup(): mount tmpfs on "), removed.message());
        CaseResult none = byName.get("strata: NoLeftovers");
        assertEquals(Status.FAIL, none.status(), none.toString());
        assertTrue(none.message().contains("removeWhileMounted: mount tmpfs on "), none.message());
        assertTrue(MountInfo.all().stream().noneMatch(m -> m.source().equals("leaky") || m.source().equals("strata-conformance")
                        && m.mountPoint().contains("strata-conformance-leaky-")),
                "the suite left the leaked mount or its scratch tmpfs mounted");

        DriverReport d = new DriverReport("leaky", List.of(), 0, collector.results());
        String matrix = Matrix.render(new RunReport("test", "now", 0, List.of(d)));
        assertTrue(matrix.contains("strata: NoLeftovers") && matrix.contains("FAIL["), matrix);
    }
}
