package dev.strata.plugin;

import dev.strata.api.DriverRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketFileTest {
    @TempDir
    Path tmp;

    PluginServer start(Path socket) throws IOException {
        return PluginServer.start(new PluginServer.Config(socket, "memory", List.of(),
                DriverRegistry.of(List.of(new MemoryDriverProvider())), Map.of(), Duration.ofSeconds(1)));
    }

    @Test
    void theSocketHasMode0600AndNoBindDirectoryIsLeft() throws IOException {
        Path socket = tmp.resolve("strata.sock");
        try (PluginServer s = start(socket)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            try (var files = Files.list(tmp)) {
                assertEquals(List.of(socket), files.toList());
            }
        }
    }

    @Test
    void aStaleSocketIsReplaced() throws IOException {
        Path socket = tmp.resolve("strata.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        } // closed; the JDK leaves the file behind, as a crashed plugin does
        assertTrue(Files.exists(socket));
        try (PluginServer s = start(socket); RawHttp c = new RawHttp(socket)) {
            assertEquals(200, c.call("Plugin.Activate", null).status());
        }
    }

    @Test
    void aLiveSocketIsNotStolen() throws IOException {
        Path socket = tmp.resolve("strata.sock");
        try (PluginServer first = start(socket)) {
            IOException e = assertThrows(IOException.class, () -> start(socket));
            assertTrue(e.getMessage().contains("another process is serving on " + socket), e.getMessage());
            try (RawHttp c = new RawHttp(socket)) {
                assertEquals(200, c.call("Plugin.Activate", null).status(), "the first server still serves");
            }
        }
    }

    @Test
    void aFileThatIsNotASocketIsLeftAlone() throws IOException {
        Path socket = tmp.resolve("strata.sock");
        Files.writeString(socket, "precious");
        assertThrows(FileAlreadyExistsException.class, () -> start(socket));
        assertEquals("precious", Files.readString(socket));
    }

    @Test
    void aPathTooLongForSunPathIsRefusedWithItsLength() {
        Path socket = tmp.resolve("x".repeat(120) + ".sock");
        IOException e = assertThrows(IOException.class, () -> start(socket));
        assertTrue(e.getMessage().contains("at most 107"), e.getMessage());
    }
}
