package dev.strata.snapshotter;

import containerd.services.snapshots.v1.SnapshotsOuterClass.Info;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The snapshotter as a process: SIGTERM while calls run, a restart with the client kept, one server per root. */
class ServerProcessTest {
    @TempDir
    Path tmp;

    @Test
    void sigtermStopsCleanlyWhileCallsRunAndARestartServesTheSameSnapshots() throws Exception {
        Path root = tmp.resolve("root"), socket = tmp.resolve("s.sock");
        Path log = Path.of("target", "sigterm-test-server.log").toAbsolutePath();
        Files.deleteIfExists(log);
        Set<String> acked = ConcurrentHashMap.newKeySet();
        ServerProcess server = ServerProcess.start("overlay", root, socket, log);
        try (Client c = new Client(socket)) {
            c.prepare("base-a", "");
            c.commit("base", "base-a");
            acked.add("base");
            AtomicBoolean stopping = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int n = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; ; i++) {
                        String k = "t" + n + "-" + i;
                        try {
                            c.prepare(k, "base");
                            acked.add(k);
                        } catch (StatusRuntimeException e) {
                            return; // refused once the server stops
                        }
                    }
                }));
            }
            Thread.sleep(800);
            stopping.set(true);
            assertEquals(143, server.terminate(), "the exit status of a clean stop: " + ServerProcess.tail(log));
            for (Thread t : threads) t.join();
            assertFalse(Files.exists(socket), "the socket is removed");
            assertTrue(Files.readString(log).contains("stopped serving on " + socket), ServerProcess.tail(log));
            // grpc-java asks each connection for TCP keep-alive; on a UNIX socket Netty warned once per connection
            assertFalse(Files.readString(log).contains("WARN"), "no warning while serving: " + ServerProcess.tail(log));
            assertTrue(acked.size() > 4, "calls ran before the stop: " + acked.size());

            server = ServerProcess.start("overlay", root, socket, log);
            c.awaitServing();
            Set<String> listed = new java.util.HashSet<>(c.list().stream().map(Info::getName).toList());
            assertTrue(listed.containsAll(acked), "every acknowledged snapshot is served again: missing " + missing(acked, listed));
            assertTrue(listed.size() <= acked.size() + 4, "at most the calls in flight at the stop were added: " + listed.size() + " vs " + acked.size());
            for (String k : listed) if (!k.equals("base")) c.remove(k);
            c.remove("base");
            assertEquals(143, server.terminate());
        } finally {
            server.close();
        }
        assertTrue(Mountinfo.under(tmp.toString()).isEmpty());
    }

    @Test
    void aSecondSnapshotterOnTheSameRootIsRefused() throws Exception {
        Path root = tmp.resolve("root"), socket = tmp.resolve("s.sock");
        Path log = Path.of("target", "second-server-test.log").toAbsolutePath();
        try (ServerProcess server = ServerProcess.start("vfs", root, socket, log)) {
            DriverRegistry registry = DriverRegistry.load();
            StorageDriver driver = registry.open(registry.require("vfs"), root, List.of());
            StorageException e = assertThrows(StorageException.class, () -> Snapshotter.open(driver, root.resolve("snapshots/vfs")));
            assertTrue(e.getMessage().contains("another strata snapshotter is serving this root"), e.getMessage());
            driver.close();
            var live = assertThrows(java.io.IOException.class, () -> SnapshotterServer.start(socket,
                    Snapshotter.open(registry.open(registry.require("vfs"), tmp.resolve("other"), List.of()), tmp.resolve("other/snapshots/vfs")),
                    java.time.Duration.ofSeconds(1)));
            assertTrue(live.getMessage().contains("another process is serving on " + socket), live.getMessage());
            assertEquals(143, server.terminate());
        }
    }

    private static List<String> missing(Set<String> want, Set<String> got) {
        return want.stream().filter(k -> !got.contains(k)).sorted().toList();
    }
}
