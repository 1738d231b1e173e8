package dev.strata.plugin;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A keep-alive HTTP/1.1 connection on a UNIX socket that writes requests byte for byte as dockerd 20.10's plugin
 * client does (Go net/http: empty Host, Go-http-client/1.1, Content-Length, the plugin Accept header; a chunked body
 * for ApplyDiff), and reads replies with Content-Length or chunked bodies.
 */
final class RawHttp implements AutoCloseable {
    record Response(int status, Map<String, String> headers, byte[] body, boolean complete) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;

    RawHttp(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        in = new java.io.BufferedInputStream(Channels.newInputStream(channel));
        out = Channels.newOutputStream(channel);
    }

    /** What json.NewEncoder(&buf).Encode(args) puts on the wire: the JSON plus a newline; nothing for Activate. */
    Response call(String method, String json) throws IOException {
        byte[] body = json == null ? new byte[0] : (json + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "POST /" + method + " HTTP/1.1\r\n"
                + "Host: \r\n"
                + "User-Agent: Go-http-client/1.1\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
                + "Accept-Encoding: gzip\r\n\r\n";
        return send(head.getBytes(StandardCharsets.US_ASCII), body);
    }

    /** ApplyDiff as client.SendFile sends it: no length, so Transfer-Encoding: chunked, in pieces of {@code piece}. */
    Response sendChunked(String target, byte[] data, int piece) throws IOException {
        writeChunkedHead(target);
        for (int off = 0; off < data.length; off += piece) {
            int n = Math.min(piece, data.length - off);
            out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(data, off, n);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return read();
    }

    void writeChunkedHead(String target) throws IOException {
        String head = "POST /" + target + " HTTP/1.1\r\n"
                + "Host: \r\n"
                + "User-Agent: Go-http-client/1.1\r\n"
                + "Transfer-Encoding: chunked\r\n"
                + "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
                + "Accept-Encoding: gzip\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
    }

    Response send(byte[] head, byte[] body) throws IOException {
        out.write(head);
        out.write(body);
        out.flush();
        return read();
    }

    void writeRaw(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    Response read() throws IOException {
        String statusLine = line();
        if (statusLine == null) throw new EOFException("connection closed before a reply");
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(); l != null && !l.isEmpty(); l = line()) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean complete = true;
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            complete = false;
            while (true) {
                String size = line();
                if (size == null) break;
                int n = Integer.parseInt(size.trim(), 16);
                if (n == 0) {
                    line();
                    complete = true;
                    break;
                }
                byte[] chunk = in.readNBytes(n);
                body.write(chunk);
                if (chunk.length < n) break;
                line();
            }
        } else if (headers.containsKey("content-length")) {
            int n = Integer.parseInt(headers.get("content-length"));
            byte[] b = in.readNBytes(n);
            body.write(b);
            complete = b.length == n;
        }
        return new Response(status, headers, body.toByteArray(), complete);
    }

    /** Whether the server has closed the connection (a read returns end of stream). */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] a = b.toByteArray();
                int n = a.length > 0 && a[a.length - 1] == '\r' ? a.length - 1 : a.length;
                return new String(a, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
