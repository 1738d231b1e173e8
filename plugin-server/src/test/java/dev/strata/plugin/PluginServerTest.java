package dev.strata.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.IdMaps;
import dev.strata.api.DriverRegistry;
import dev.strata.api.OptionSpec;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The protocol as dockerd 20.10 speaks it, byte for byte, against a server over {@link MemoryDriver}. */
@Timeout(60)
class PluginServerTest {
    @TempDir
    Path tmp;
    PluginServer server;
    Path socket;
    Path home;

    static final DriverProvider OTHER = new DriverProvider() {
        public String name() {
            return "other";
        }

        public int priority() {
            return 0;
        }

        public List<OptionSpec> options() {
            return List.of();
        }

        public Support probe(Path home) {
            return Support.yes("test");
        }

        public StorageDriver open(DriverContext context) {
            throw new UnsupportedOperationException();
        }
    };

    @BeforeEach
    void start() throws IOException {
        socket = tmp.resolve("plugins/strata-test.sock");
        home = tmp.resolve("data-root/strata-test");
        server = PluginServer.start(new PluginServer.Config(socket, "memory", List.of("memory.size=1G"),
                DriverRegistry.of(List.of(new MemoryDriverProvider(), OTHER)), Map.of(), Duration.ofSeconds(5)));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static JsonNode json(RawHttp.Response r) throws IOException {
        return Wire.MAPPER.readTree(r.body());
    }

    RawHttp.Response init(RawHttp c) throws IOException {
        return c.call("GraphDriver.Init", "{\"Home\":\"" + home + "\",\"Opts\":null,\"UIDMaps\":null,\"GIDMaps\":null}");
    }

    MemoryDriver driver() {
        return MemoryDriverProvider.OPENED.getLast();
    }

    @Test
    void activateAnswersTheManifestToDockerdsExactRequest() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            RawHttp.Response r = c.call("Plugin.Activate", null);
            assertEquals(200, r.status());
            assertEquals("{\"Implements\":[\"GraphDriver\"]}", r.text());
            assertEquals("application/vnd.docker.plugins.v1+json", r.header("Content-Type"));
        }
    }

    @Test
    void theStartupSequenceAndEveryJsonEndpointOnOneKeepAliveConnection() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            assertEquals(200, c.call("Plugin.Activate", null).status());
            RawHttp.Response r = init(c);
            assertEquals(200, r.status(), r.text());
            assertEquals("{}", r.text());
            // Home is the storage root: the driver lives in <Home>/<driver name>, with the plugin's options.
            assertEquals(home.resolve("memory"), driver().home());
            assertEquals(List.of("memory.size=1G"), driver().options);
            assertEquals("{\"Capabilities\":{\"ReproducesExactDiffs\":false}}", c.call("GraphDriver.Capabilities", "{}").text());
            assertEquals("{\"Status\":[[\"Strata Driver\",\"memory\"],[\"Layers\",\"0\"],[\"Home\",\"" + home.resolve("memory") + "\"]]}",
                    c.call("GraphDriver.Status", "{}").text());

            assertEquals("{}", c.call("GraphDriver.Create", "{\"ID\":\"l1\"}").text());
            assertEquals("{}", c.call("GraphDriver.CreateReadWrite",
                    "{\"ID\":\"c1-init\",\"Parent\":\"l1\",\"MountLabel\":\"\",\"StorageOpt\":{\"size\":\"1G\"}}").text());
            assertEquals(Map.of("size", "1G"), driver().layers.get("c1-init").storageOpts());
            assertEquals("{\"Dir\":\"" + home.resolve("memory/c1-init") + "\"}", c.call("GraphDriver.Get", "{\"ID\":\"c1-init\"}").text());
            assertEquals(1, driver().references("c1-init"));
            assertEquals("{}", c.call("GraphDriver.Put", "{\"ID\":\"c1-init\"}").text());
            assertEquals(0, driver().references("c1-init"));
            assertEquals("{\"Exists\":true}", c.call("GraphDriver.Exists", "{\"ID\":\"l1\"}").text());
            assertEquals("{\"Exists\":false}", c.call("GraphDriver.Exists", "{\"ID\":\"nope\"}").text());
            assertEquals("{\"Metadata\":{\"Dir\":\"" + home.resolve("memory/l1") + "\",\"ReadWrite\":\"false\"}}",
                    c.call("GraphDriver.GetMetadata", "{\"ID\":\"l1\"}").text());
            assertEquals("{\"Changes\":[{\"Path\":\"/etc/hostname\",\"Kind\":0},{\"Path\":\"/tmp/x\",\"Kind\":1},"
                    + "{\"Path\":\"/bin/ls\",\"Kind\":2}]}", c.call("GraphDriver.Changes", "{\"ID\":\"c1-init\",\"Parent\":\"l1\"}").text());
            assertEquals("{\"Size\":0}", c.call("GraphDriver.DiffSize", "{\"ID\":\"c1-init\",\"Parent\":\"l1\"}").text());
            assertEquals("{}", c.call("GraphDriver.Remove", "{\"ID\":\"c1-init\"}").text());
            assertFalse(driver().exists("c1-init"));
            assertEquals("{}", c.call("GraphDriver.Cleanup", "{}").text());
            assertEquals(1, driver().cleanups.get());
        }
    }

    @Test
    void namesAreMatchedCaseInsensitivelyAndUnknownFieldsIgnored() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
            assertEquals(200, c.call("GraphDriver.Create", "{\"id\":\"l1\",\"PARENT\":\"\",\"Future\":[1,2]}").status());
            assertTrue(driver().exists("l1"));
        }
    }

    @Test
    void dockerdsStorageOptsFollowThePluginsOwnAndBadOnesFailInit() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            RawHttp.Response r = c.call("GraphDriver.Init", "{\"Home\":\"" + home + "\",\"Opts\":[\"memory.flag=true\"]}");
            assertEquals(200, r.status(), r.text());
            assertEquals(List.of("memory.size=1G", "memory.flag=true"), driver().options);
            r = c.call("GraphDriver.Init", "{\"Home\":\"" + home + "\",\"Opts\":[\"memory.colour=blue\"]}");
            assertEquals(500, r.status());
            assertTrue(json(r).get("Err").asText().contains("unknown option memory.colour"), r.text());
        }
    }

    @Test
    void aSecondInitOnTheSameHomeKeepsTheOpenDriver() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
            MemoryDriver first = driver();
            c.call("GraphDriver.Create", "{\"ID\":\"l1\"}");
            // dockerd restarted while the plugin kept running: Activate and Init again.
            c.call("Plugin.Activate", null);
            assertEquals(200, init(c).status());
            assertEquals(first, driver());
            assertEquals("{\"Exists\":true}", c.call("GraphDriver.Exists", "{\"ID\":\"l1\"}").text());
        }
    }

    @Test
    void usernsRemapMapsGoToContainerLayersAndNotToImageLayers() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            RawHttp.Response r = c.call("GraphDriver.Init", "{\"Home\":\"" + home + "\",\"Opts\":null,"
                    + "\"UIDMaps\":[{\"container_id\":0,\"host_id\":100000,\"size\":65536}],"
                    + "\"GIDMaps\":[{\"container_id\":0,\"host_id\":200000,\"size\":65536}]}");
            assertEquals(200, r.status(), r.text());
            c.call("GraphDriver.Create", "{\"ID\":\"image\"}");
            c.call("GraphDriver.CreateReadWrite", "{\"ID\":\"ctr-init\",\"Parent\":\"image\"}");
            assertEquals(IdMaps.NONE, driver().idMaps("image"));
            assertEquals(IdMaps.parse("0:100000:65536", "0:200000:65536"), driver().idMaps("ctr-init"));
        }
    }

    @Test
    void initRefusesBadIdMapsAndAHomeHoldingAnotherDriversLayers() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            RawHttp.Response r = c.call("GraphDriver.Init", "{\"Home\":\"" + home + "\",\"Opts\":null,"
                    + "\"UIDMaps\":[{\"container_id\":0,\"host_id\":100000,\"size\":65536}],\"GIDMaps\":null}");
            assertEquals(500, r.status());
            assertTrue(json(r).get("Err").asText().contains("a uid map and a gid map go together"), r.text());
            assertFalse(Files.exists(home.resolve("memory")), "a refused Init changes nothing");

            Files.createDirectories(home.resolve("other/layer"));
            r = init(c);
            assertEquals(500, r.status());
            assertTrue(json(r).get("Err").asText().contains("holds the layers of storage driver other"), r.text());
            assertFalse(Files.exists(home.resolve("memory")), "a refused Init changes nothing");
        }
    }

    @Test
    void callsBeforeInitAreRefused() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            RawHttp.Response r = c.call("GraphDriver.Create", "{\"ID\":\"l1\"}");
            assertEquals(500, r.status());
            assertEquals("{\"Err\":\"GraphDriver.Init has not been called yet\"}", r.text());
        }
    }

    @Test
    void malformedJsonUnknownEndpointsAndUnknownIdsGetErrAndTheServerKeepsServing() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
            RawHttp.Response r = c.call("GraphDriver.Create", "{\"ID\":");
            assertEquals(400, r.status());
            assertTrue(json(r).get("Err").asText().startsWith("malformed JSON in the GraphDriver.Create request at line 2"), r.text());

            r = c.call("GraphDriver.Frobnicate", "{}");
            assertEquals(404, r.status());
            assertTrue(json(r).get("Err").asText().contains("unknown endpoint /GraphDriver.Frobnicate"), r.text());

            r = c.call("GraphDriver.Get", "{\"ID\":\"nope\"}");
            assertEquals(500, r.status());
            assertEquals("{\"Err\":\"get nope: layer does not exist\"}", r.text());

            r = c.call("GraphDriver.Create", "{\"ID\":\"../escape\"}");
            assertEquals(500, r.status());
            assertTrue(json(r).get("Err").asText().contains("../escape"), r.text());

            r = c.send("GET /GraphDriver.Status HTTP/1.1\r\nHost: \r\n\r\n".getBytes(), new byte[0]);
            assertEquals(405, r.status());
            assertTrue(json(r).has("Err"));

            // Same connection, still serving.
            assertEquals("{}", c.call("GraphDriver.Create", "{\"ID\":\"l1\"}").text());
        }
        try (RawHttp c = new RawHttp(socket)) { // and new connections too
            assertEquals("{\"Exists\":true}", c.call("GraphDriver.Exists", "{\"ID\":\"l1\"}").text());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
            String create = "POST /GraphDriver.Create HTTP/1.1\r\nHost: \r\nContent-Length: 12\r\n\r\n{\"ID\":\"p1\"}\n";
            String exists = "POST /GraphDriver.Exists HTTP/1.1\r\nHost: \r\nContent-Length: 12\r\n\r\n{\"ID\":\"p1\"}\n";
            c.writeRaw(create + exists + exists.replace("p1", "p2"));
            assertEquals("{}", c.read().text());
            assertEquals("{\"Exists\":true}", c.read().text());
            assertEquals("{\"Exists\":false}", c.read().text());
        }
    }

    @Test
    void garbageThatIsNotHttpGetsAnErrAndOnlyThatConnectionCloses() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            c.writeRaw("\u0001\u0002 nonsense\r\n\r\n");
            RawHttp.Response r = c.read();
            assertEquals(400, r.status());
            assertTrue(json(r).has("Err"));
            assertTrue(c.closedByPeer());
        }
        try (RawHttp c = new RawHttp(socket)) {
            assertEquals(200, c.call("Plugin.Activate", null).status());
        }
    }

    @Test
    void applyDiffTakesAChunkedTarWithUnescapedQueryAndDiffStreamsItBack() throws IOException {
        byte[] tar = new byte[5 << 20];
        new Random(7).nextBytes(tar);
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
            c.call("GraphDriver.Create", "{\"ID\":\"base\"}");
            c.call("GraphDriver.Create", "{\"ID\":\"l1\",\"Parent\":\"base\"}");
            // Larger than the body queue's high-water mark, so reading pauses and resumes.
            RawHttp.Response r = c.sendChunked("GraphDriver.ApplyDiff?id=l1&parent=base", tar, 32 << 10);
            assertEquals(200, r.status(), r.text());
            assertEquals("{\"Size\":" + tar.length + "}", r.text());
            assertArrayEquals(tar, driver().layers.get("l1").content());

            r = c.call("GraphDriver.Diff", "{\"ID\":\"l1\",\"Parent\":\"base\"}");
            assertEquals(200, r.status());
            assertEquals("chunked", r.header("Transfer-Encoding"));
            assertEquals("application/x-tar", r.header("Content-Type"));
            assertTrue(r.complete());
            assertArrayEquals(tar, r.body());

            assertEquals("{\"Size\":" + tar.length + "}", c.call("GraphDriver.DiffSize", "{\"ID\":\"l1\",\"Parent\":\"base\"}").text());
            // An empty parent= means none.
            c.call("GraphDriver.Create", "{\"ID\":\"l2\"}");
            assertEquals("{\"Size\":3}", c.sendChunked("GraphDriver.ApplyDiff?id=l2&parent=", new byte[]{1, 2, 3}, 2).text());
        }
    }

    @Test
    void aFailedApplyDiffDrainsTheBodyAndTheConnectionStaysUsable() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
            RawHttp.Response r = c.sendChunked("GraphDriver.ApplyDiff?id=missing&parent=", new byte[3 << 20], 16 << 10);
            assertEquals(500, r.status());
            assertEquals("{\"Err\":\"applyDiff missing: layer does not exist\"}", r.text());
            assertEquals(200, c.call("GraphDriver.Create", "{\"ID\":\"l1\"}").status());
        }
    }

    @Test
    void diffOfAnUnknownLayerIsAnErrReplyAndABrokenStreamCutsTheConnection() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
            RawHttp.Response r = c.call("GraphDriver.Diff", "{\"ID\":\"nope\"}");
            assertEquals(500, r.status());
            assertEquals("{\"Err\":\"diff nope: layer does not exist\"}", r.text());

            c.call("GraphDriver.Create", "{\"ID\":\"l1\"}");
            c.sendChunked("GraphDriver.ApplyDiff?id=l1&parent=", new byte[1 << 20], 64 << 10);
            driver().failDiffAfter = 300_000;
            r = c.call("GraphDriver.Diff", "{\"ID\":\"l1\"}");
            assertEquals(200, r.status());
            assertFalse(r.complete(), "no terminating chunk: the reader must see a truncated stream");
            assertTrue(r.body().length <= 300_000);
        }
        try (RawHttp c = new RawHttp(socket)) {
            assertEquals(200, c.call("Plugin.Activate", null).status());
        }
    }

    /**
     * Inits the driver over {@code c}, creates l1 and starts a Get of it that the driver holds until {@code gate}
     * opens; returns once the Get is inside the driver.
     */
    private CompletableFuture<RawHttp.Response> getHeldByTheDriver(RawHttp c, CountDownLatch gate) throws Exception {
        init(c);
        c.call("GraphDriver.Create", "{\"ID\":\"l1\"}");
        CountDownLatch entered = new CountDownLatch(1);
        driver().getGate = gate;
        driver().getEntered = entered;
        CompletableFuture<RawHttp.Response> get = CompletableFuture.supplyAsync(() -> {
            try {
                return c.call("GraphDriver.Get", "{\"ID\":\"l1\"}");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the Get reached the driver");
        return get;
    }

    @Test
    void aBlockedDriverCallDoesNotHoldUpOtherConnections() throws Exception {
        try (RawHttp a = new RawHttp(socket); RawHttp b = new RawHttp(socket)) {
            CountDownLatch gate = new CountDownLatch(1);
            CompletableFuture<RawHttp.Response> blocked = getHeldByTheDriver(a, gate);
            assertEquals("{\"Exists\":true}", b.call("GraphDriver.Exists", "{\"ID\":\"l1\"}").text());
            assertEquals(200, b.call("GraphDriver.Status", "{}").status());
            assertFalse(blocked.isDone());
            gate.countDown();
            assertEquals(200, blocked.get(10, TimeUnit.SECONDS).status());
        }
    }

    @Test
    void closeLetsACallInProgressFinishBeforeTheCleanupAndRefusesNewOnes() throws Exception {
        try (RawHttp a = new RawHttp(socket); RawHttp b = new RawHttp(socket)) {
            CountDownLatch gate = new CountDownLatch(1);
            CompletableFuture<RawHttp.Response> blocked = getHeldByTheDriver(a, gate);
            MemoryDriver d = driver();
            // a thread of its own: on 2 cores the common pool has one worker, and the held Get's caller is on it
            var closing = CompletableFuture.runAsync(server::close, r -> new Thread(r, "close").start());
            Thread.sleep(300);
            assertFalse(closing.isDone(), "close waits for the Get in progress");
            assertEquals(0, d.cleanups.get(), "no cleanup while a call runs");
            RawHttp.Response refused = b.call("GraphDriver.Exists", "{\"ID\":\"l1\"}");
            assertEquals(503, refused.status(), refused.text());
            gate.countDown();
            assertEquals(200, blocked.get(10, TimeUnit.SECONDS).status());
            closing.get(10, TimeUnit.SECONDS);
            assertEquals(1, d.cleanups.get());
        }
    }

    @Test
    void closeRunsTheDriversCleanupAndRemovesTheSocket() throws IOException {
        try (RawHttp c = new RawHttp(socket)) {
            init(c);
        }
        MemoryDriver d = driver();
        server.close();
        assertEquals(1, d.cleanups.get());
        assertFalse(Files.exists(socket));
    }
}
