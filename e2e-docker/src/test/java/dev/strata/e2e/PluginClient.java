package dev.strata.e2e;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** One plugin call per connection, written as dockerd writes it (empty Host, JSON plus a newline). */
final class PluginClient {
    record Reply(int status, String body) {
    }

    private PluginClient() {
    }

    static Reply call(Path socket, String method, String json) throws IOException {
        byte[] body = json == null ? new byte[0] : (json + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "POST /" + method + " HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: " + body.length
                + "\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\nConnection: close\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            ch.write(ByteBuffer.wrap(body));
            ByteBuffer in = ByteBuffer.allocate(1 << 16);
            while (ch.read(in) >= 0 && in.hasRemaining()) {
                // until the server closes
            }
            String reply = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
            int split = reply.indexOf("\r\n\r\n");
            return new Reply(Integer.parseInt(reply.substring(9, 12)), split < 0 ? "" : reply.substring(split + 4));
        }
    }
}
