package dev.strata.kit;

import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarWriter;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * A layer tar built in memory with layer-archive's writer, for the kit's and the drivers' tests (driver-kit's test-jar):
 * {@code file(name, text)}, {@code dir}, links, whiteouts.
 */
public final class TestTar {
    /** Every entry's mtime (2020-09-13): fixed, so a tar built twice is the same bytes. */
    private static final long MTIME_NANOS = 1_600_000_000_000_000_000L;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarWriter out = new TarWriter(bytes);

    private TestTar entry(String name, byte type, int mode, String link, byte[] data) {
        TarHeader h = new TarHeader();
        h.name = name;
        h.type = type;
        h.mode = mode;
        h.linkName = link == null ? "" : link;
        h.size = data.length;
        h.mtimeNanos = MTIME_NANOS;
        out.writeHeader(h);
        if (data.length > 0) out.write(data, 0, data.length);
        return this;
    }

    public TestTar dir(String name) {
        return entry(name.endsWith("/") ? name : name + "/", TarHeader.DIRECTORY, 0755, null, new byte[0]);
    }

    public TestTar file(String name, String text) {
        return entry(name, TarHeader.REGULAR, 0644, null, text.getBytes(StandardCharsets.UTF_8));
    }

    /** An OCI whiteout: an empty regular file, {@code .wh.<name>} or {@code .wh..wh..opq}. */
    public TestTar whiteout(String name) {
        return file(name, "");
    }

    public TestTar symlink(String name, String target) {
        return entry(name, TarHeader.SYMLINK, 0777, target, new byte[0]);
    }

    public TestTar hardlink(String name, String target) {
        return entry(name, TarHeader.HARDLINK, 0644, target, new byte[0]);
    }

    /** The archive, ended: nothing more can be added. */
    public byte[] bytes() {
        out.finish();
        return bytes.toByteArray();
    }

    public InputStream stream() {
        return new ByteArrayInputStream(bytes());
    }
}
