package dev.strata.conformance.hostile;

import dev.strata.archive.tar.Pax;
import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarWriter;
import dev.strata.archive.tar.Ustar;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** A small builder of tar archives, well-formed or not, in memory. Names are plain Java strings (UTF-8 on disk). */
final class Tars {
    static final long MTIME = 1_577_836_800L * 1_000_000_000L; // 2020-01-01, as peerbench's data

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarWriter w = new TarWriter(bytes);

    static Tars tar() {
        return new Tars();
    }

    private TarHeader h(String name, byte type, int mode) {
        TarHeader h = new TarHeader();
        h.name = TarHeader.raw(name);
        h.type = type;
        h.mode = mode;
        h.mtimeNanos = MTIME;
        return h;
    }

    Tars dir(String name) {
        return dir(name, 0755, MTIME);
    }

    Tars dir(String name, int mode, long mtimeNanos) {
        TarHeader h = h(name.endsWith("/") ? name : name + "/", TarHeader.DIRECTORY, mode);
        h.mtimeNanos = mtimeNanos;
        w.writeHeader(h);
        return this;
    }

    /** Directories for every component of {@code path} ("a/b/c" gives a/, a/b/, a/b/c/). */
    Tars dirs(String path) {
        String p = "";
        for (String c : path.split("/")) {
            if (c.isEmpty()) continue;
            p = p.isEmpty() ? c : p + "/" + c;
            dir(p);
        }
        return this;
    }

    Tars file(String name, String content) {
        return file(name, content, 0644);
    }

    Tars file(String name, String content, int mode) {
        return entry(h(name, TarHeader.REGULAR, mode), content.getBytes(StandardCharsets.UTF_8));
    }

    Tars entry(TarHeader h, byte[] data) {
        h.size = data.length;
        w.writeHeader(h);
        w.write(data, 0, data.length);
        return this;
    }

    Tars header(String name, byte type, int mode, Consumer<TarHeader> edit) {
        TarHeader h = h(name, type, mode);
        edit.accept(h);
        w.writeHeader(h);
        return this;
    }

    Tars symlink(String name, String target) {
        return header(name, TarHeader.SYMLINK, 0777, h -> h.linkName = TarHeader.raw(target));
    }

    Tars link(String name, String target) {
        return link(name, target, 0644);
    }

    Tars link(String name, String target, int mode) {
        return header(name, TarHeader.HARDLINK, mode, h -> h.linkName = TarHeader.raw(target));
    }

    Tars device(String name, byte type, int major, int minor) {
        return header(name, type, 0600, h -> {
            h.devMajor = major;
            h.devMinor = minor;
        });
    }

    Tars fileWithXattr(String name, String xattr, byte[] value, byte type) {
        return header(name, type, type == TarHeader.DIRECTORY ? 0755 : 0644, h -> h.xattrs.put(xattr, value));
    }

    /** An extended header of the given type ('x', 'g') holding raw records. */
    Tars pax(byte type, String... keyValues) {
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        for (int i = 0; i < keyValues.length; i += 2) Pax.record(r, keyValues[i], TarHeader.raw(keyValues[i + 1]));
        return paxBytes(type, r.toByteArray());
    }

    Tars paxBytes(byte type, byte[] records) {
        Ustar u = new Ustar().magic().name("PaxHeaders/x").mode(0644).size(records.length).mtime(MTIME / 1_000_000_000L).type(type).checksum();
        w.raw(u.bytes());
        w.raw(padded(records));
        return this;
    }

    /** A GNU long-name ('L') or long-link ('K') entry. */
    Tars gnuLong(byte type, String value) {
        byte[] v = (TarHeader.raw(value) + "\0").getBytes(StandardCharsets.ISO_8859_1);
        Ustar u = new Ustar().magic().name("././@LongLink").mode(0644).size(v.length).type(type).checksum();
        w.raw(u.bytes());
        w.raw(padded(v));
        return this;
    }

    /** A raw ustar block, edited by {@code edit}, checksummed unless {@code checksum} is false, then raw data. */
    Tars rawHeader(Consumer<Ustar> edit, boolean checksum, byte[] data) {
        Ustar u = new Ustar().magic().mode(0644).mtime(MTIME / 1_000_000_000L).type(TarHeader.REGULAR);
        edit.accept(u);
        if (checksum) u.checksum();
        w.raw(u.bytes());
        w.raw(padded(data));
        return this;
    }

    /** Raw bytes appended as they are (e.g. a header with no data behind it). */
    Tars raw(byte[] b) {
        w.raw(b);
        return this;
    }

    /** Finishes with the end-of-archive blocks. */
    byte[] bytes() {
        w.finish();
        return bytes.toByteArray();
    }

    /** Stops without end-of-archive blocks (a truncated archive). */
    byte[] truncated() {
        w.finish();
        byte[] all = bytes.toByteArray();
        return java.util.Arrays.copyOf(all, all.length - 2 * Ustar.BLOCK);
    }

    static byte[] padded(byte[] data) {
        int n = (data.length + Ustar.BLOCK - 1) / Ustar.BLOCK * Ustar.BLOCK;
        return java.util.Arrays.copyOf(data, n);
    }
}
