package dev.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.strata.api.DriverRegistry;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training run of the graphdriver plugin's AOT cache ({@code __train-aot --plugin SCRATCH}): {@code plugin serve}
 * started through the same command line as the systemd unit, driven over its socket the way dockerd 20.10's plugin
 * client drives it (HTTP/1.1 keep-alive, Go's headers, a JSON body ending in a newline, ApplyDiff's tar chunked), by a
 * client in the same JVM: per round a container's life (CreateReadWrite of its -init layer and its own, Get, Put,
 * Exists, GetMetadata, Remove), now and then a commit and a pull (Diff, Changes, DiffSize, Create, ApplyDiff), Status
 * and Capabilities. Then {@link System#exit}, as SIGTERM stops it. Overlay where it runs here (what the unit serves),
 * else vfs.
 */
final class PluginTraining {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PluginTraining() {
    }

    static int run(Path scratch) throws Exception {
        Files.createDirectories(scratch);
        String driver = DriverRegistry.load().require("overlay").probe(scratch).supported() ? "overlay" : "vfs";
        Path socket = scratch.resolve("plugin.sock");
        ServeTraining.serveWhile(new String[]{"-s", driver, "plugin", "serve", "--socket", socket.toString()}, socket,
                () -> drive(socket, scratch.resolve("home"), ServeTraining.ROUNDS));
        return Main.FAILED;
    }

    private static void drive(Path socket, Path home, int rounds) throws IOException {
        try (Dockerd d = new Dockerd(socket)) {
            d.call("Plugin.Activate", null);
            d.call("GraphDriver.Init", "{\"Home\":\"" + home + "\",\"Opts\":null,\"UIDMaps\":null,\"GIDMaps\":null}");
            d.call("GraphDriver.Capabilities", "{}");
            String base = "train-base";
            d.call("GraphDriver.Create", layer(base, ""));
            byte[] tar = committed(d, base, "train-seed");
            d.applyDiff(base, "", tar);
            for (int i = 0; i < rounds; i++) {
                String id = "train-" + i, init = id + "-init";
                d.call("GraphDriver.CreateReadWrite", layer(init, base));
                d.call("GraphDriver.Get", layer(init, ""));
                d.call("GraphDriver.Put", layer(init, ""));
                d.call("GraphDriver.CreateReadWrite", layer(id, init));
                d.call("GraphDriver.Exists", layer(id, ""));
                d.call("GraphDriver.Get", layer(id, ""));
                d.call("GraphDriver.GetMetadata", layer(id, ""));
                d.call("GraphDriver.Put", layer(id, ""));
                if (i % 50 == 0) occasional(d, base, i);
                d.call("GraphDriver.Remove", layer(id, ""));
                d.call("GraphDriver.Remove", layer(init, ""));
            }
            d.call("GraphDriver.Remove", layer(base, ""));
        }
    }

    /** docker commit (a changed container layer read out as a tar) and docker pull (that tar applied as a new layer). */
    private static void occasional(Dockerd d, String base, int i) throws IOException {
        d.call("GraphDriver.Status", "{}");
        byte[] tar = committed(d, base, "train-commit-" + i);
        String image = "train-image-" + i;
        d.call("GraphDriver.Create", layer(image, base));
        d.applyDiff(image, base, tar);
        d.call("GraphDriver.DiffSize", layer(image, base));
        d.call("GraphDriver.Remove", layer(image, ""));
    }

    /** A container layer on {@code parent} with a few files written, read out as its diff, then removed. */
    private static byte[] committed(Dockerd d, String parent, String id) throws IOException {
        d.call("GraphDriver.CreateReadWrite", layer(id, parent));
        Path dir = Path.of(JSON.readTree(d.call("GraphDriver.Get", layer(id, ""))).path("Dir").asText());
        Files.writeString(Files.createDirectories(dir.resolve("etc")).resolve("hostname"), id + "\n");
        Files.write(dir.resolve("data"), new byte[4096]);
        d.call("GraphDriver.Put", layer(id, ""));
        d.call("GraphDriver.Changes", layer(id, parent));
        byte[] tar = d.call("GraphDriver.Diff", layer(id, parent));
        d.call("GraphDriver.Remove", layer(id, ""));
        return tar;
    }

    private static String layer(String id, String parent) {
        return "{\"ID\":\"" + id + "\",\"Parent\":\"" + parent + "\",\"MountLabel\":\"\"}";
    }

    /** dockerd's side of one keep-alive connection: what pkg/plugins' client writes, and a reader of the replies. */
    private static final class Dockerd implements AutoCloseable {
        private static final String HEADERS = "Host: \r\nUser-Agent: Go-http-client/1.1\r\n"
                + "Accept: application/vnd.docker.plugins.v1.2+json\r\nAccept-Encoding: gzip\r\n";
        private final SocketChannel channel;
        private final InputStream in;
        private final OutputStream out;

        Dockerd(Path socket) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            in = new BufferedInputStream(Channels.newInputStream(channel));
            out = Channels.newOutputStream(channel);
        }

        /** A JSON call (json.NewEncoder's output: the document and a newline; no body for Activate); its reply's body. */
        byte[] call(String method, String json) throws IOException {
            byte[] body = json == null ? new byte[0] : (json + "\n").getBytes(StandardCharsets.UTF_8);
            out.write(("POST /" + method + " HTTP/1.1\r\n" + HEADERS + "Content-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            return reply(method);
        }

        /** ApplyDiff as client.SendFile sends a layer: chunked, the id and parent in the query. */
        void applyDiff(String id, String parent, byte[] tar) throws IOException {
            out.write(("POST /GraphDriver.ApplyDiff?id=" + id + "&parent=" + parent + " HTTP/1.1\r\n" + HEADERS
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            for (int off = 0; off < tar.length; off += 32 * 1024) {
                int n = Math.min(32 * 1024, tar.length - off);
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(tar, off, n);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            reply("GraphDriver.ApplyDiff");
        }

        /** The reply's body (Content-Length or chunked); a status other than 200 or an "Err" fails the training. */
        private byte[] reply(String method) throws IOException {
            String status = line();
            long length = -1;
            boolean chunked = false;
            for (String h = line(); !h.isEmpty(); h = line()) {
                String name = h.substring(0, h.indexOf(':')).trim(), value = h.substring(h.indexOf(':') + 1).trim();
                if (name.equalsIgnoreCase("Content-Length")) length = Long.parseLong(value);
                if (name.equalsIgnoreCase("Transfer-Encoding")) chunked = value.equalsIgnoreCase("chunked");
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                for (int n; (n = Integer.parseInt(line(), 16)) > 0; line()) body.write(in.readNBytes(n));
                line();
            } else if (length > 0) {
                body.write(in.readNBytes((int) length));
            }
            byte[] b = body.toByteArray();
            if (!status.startsWith("HTTP/1.1 200") || (b.length > 0 && b[0] == '{' && !JSON.readTree(b).path("Err").asText().isEmpty())) {
                throw new IOException(method + ": " + status + " " + new String(b, StandardCharsets.UTF_8));
            }
            return b;
        }

        private String line() throws IOException {
            StringBuilder s = new StringBuilder();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) throw new IOException("the plugin closed the connection");
                if (c != '\r') s.append((char) c);
            }
            return s.toString();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
