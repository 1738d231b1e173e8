package dev.strata.snapshotter;

import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Starts snapshotters on request for the Go harness (one per sub-test of containerd's suite, each in its own root
 * with its own driver instance, store and socket), all in this JVM: a line protocol on a UNIX socket,
 * {@code serve ROOT SOCKET} and {@code stop SOCKET}, each answered {@code ok} or {@code error MESSAGE}.
 */
final class SnapshotterFactory implements AutoCloseable {
    private final String driverName;
    private final ServerSocketChannel listener;
    private final Path socket;
    private final Map<String, SnapshotterServer> servers = new ConcurrentHashMap<>();
    private final Map<String, Snapshotter> snapshotters = new ConcurrentHashMap<>();
    private final Thread acceptor;

    SnapshotterFactory(String driverName, Path socket) throws IOException {
        this.driverName = driverName;
        this.socket = socket;
        Files.deleteIfExists(socket);
        this.listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        this.acceptor = Thread.ofPlatform().daemon().name("snapshotter-factory").start(this::accept);
    }

    Path socket() {
        return socket;
    }

    int running() {
        return servers.size();
    }

    private void accept() {
        while (listener.isOpen()) {
            try {
                SocketChannel c = listener.accept();
                Thread.ofVirtual().start(() -> handle(c));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void handle(SocketChannel c) {
        try (c) {
            String line = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8)).readLine();
            String reply;
            try {
                reply = answer(line == null ? List.of() : List.of(line.split(" ")));
            } catch (Exception e) {
                reply = "error " + String.valueOf(e.getMessage()).replace('\n', ' ');
            }
            Channels.newOutputStream(c).write((reply + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException ignored) {
            // the harness went away; its test fails on its own
        }
    }

    private String answer(List<String> words) throws IOException {
        if (words.size() == 3 && words.get(0).equals("serve")) {
            Path root = Path.of(words.get(1));
            DriverRegistry registry = DriverRegistry.load();
            var provider = registry.require(driverName);
            StorageDriver driver = registry.open(provider, root, List.of());
            Snapshotter sn = Snapshotter.open(driver, root.resolve("snapshots").resolve(provider.name()));
            servers.put(words.get(2), SnapshotterServer.start(Path.of(words.get(2)), sn, Duration.ofSeconds(10)));
            snapshotters.put(words.get(2), sn);
            return "ok";
        }
        if (words.size() == 2 && words.get(0).equals("stop")) {
            SnapshotterServer s = servers.remove(words.get(1));
            if (s == null) return "error no snapshotter serves " + words.get(1);
            s.close();
            // the suite deletes the root next, snapshots and all (the 128-layer view is never removed)
            snapshotters.remove(words.get(1)).releaseMounts();
            return "ok";
        }
        return "error unknown request " + words;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (SnapshotterServer s : servers.values()) s.close();
        for (Snapshotter s : snapshotters.values()) s.releaseMounts();
        servers.clear();
        snapshotters.clear();
        Files.deleteIfExists(socket);
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
