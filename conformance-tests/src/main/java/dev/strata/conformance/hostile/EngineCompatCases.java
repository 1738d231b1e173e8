package dev.strata.conformance.hostile;

import dev.strata.conformance.hostile.HostileCase.Expect;
import dev.strata.archive.tar.TarHeader;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.strata.conformance.hostile.HostileCase.Expect.APPLIED_SAFELY;
import static dev.strata.conformance.hostile.HostileCase.Expect.REFUSED;
import static dev.strata.conformance.hostile.Tars.tar;

/**
 * Layers that containerd's {@code archive.Apply} and moby's chrooted {@code ApplyLayer} accept (or, for the stream
 * cases, that Go's {@code archive/tar} rejects), one group per rule of DESIGN.md's "Safety", each with what the layer
 * must hold afterwards: symlink targets kept verbatim; a leading {@code /} dropped and names cleaned lexically;
 * paths through symlinks resolved inside the layer; directory modes and times exact, merged directories too; stream
 * errors exactly Go's.
 */
final class EngineCompatCases {
    private static final long T = Tars.MTIME / 1_000_000_000L;
    private static final long T2 = T + 86_400;

    private EngineCompatCases() {
    }

    static void add(List<HostileCase> c) {
        symlinkTargets(c);
        names(c);
        throughSymlinks(c);
        directories(c);
        streams(c);
    }

    private static void add(List<HostileCase> c, String name, Expect expect, Function<Path, Tars> build, Map<String, String> inside) {
        c.add(new HostileCase("compat-" + name, "engines", expect, p -> build.apply(p).bytes(), p -> inside));
    }

    private static void addRaw(List<HostileCase> c, String name, Expect expect, Function<Path, byte[]> build, Map<String, String> inside) {
        c.add(new HostileCase("compat-" + name, "Go archive/tar", expect, build, p -> inside));
    }

    private static void symlinkTargets(List<HostileCase> c) {
        add(c, "symlink-target-climbing-kept", APPLIED_SAFELY,
                o -> tar().dirs("usr/lib").symlink("usr/lib/os-release", "../../../../../etc/os-release").file("etc/os-release", "ID=x"),
                Map.of("usr/lib/os-release", "symlink target=../../../../../etc/os-release", "etc/os-release", "file content=ID=x"));
        add(c, "symlink-target-absolute-kept", APPLIED_SAFELY, o -> tar().dir("bin").symlink("bin/sh", "/bin/busybox"),
                Map.of("bin/sh", "symlink target=/bin/busybox"));
        add(c, "symlink-target-dangling-kept", APPLIED_SAFELY, o -> tar().symlink("x", "nowhere/at/all"),
                Map.of("x", "symlink target=nowhere/at/all"));
        add(c, "symlink-target-dotdot-kept", APPLIED_SAFELY, o -> tar().symlink("up", ".."), Map.of("up", "symlink target=.."));
        c.add(new HostileCase("compat-symlink-target-outside-path-kept", "engines", APPLIED_SAFELY,
                o -> tar().symlink("out", o + "/hello").bytes(), o -> Map.of("out", "symlink target=" + o + "/hello")));
    }

    private static void names(List<HostileCase> c) {
        add(c, "name-leading-slash", APPLIED_SAFELY, o -> tar().dir("/etc").file("/etc/hosts", "127.0.0.1 localhost"),
                Map.of("etc", "dir mode=755 mtime=" + T, "etc/hosts", "file content=127.0.0.1 localhost"));
        add(c, "name-dot-slash", APPLIED_SAFELY, o -> tar().dir("./").dir("./a/").file("./a/./b", "b"),
                Map.of("a/b", "file content=b"));
        add(c, "name-repeated-slashes", APPLIED_SAFELY, o -> tar().file("a//b///c", "c"), Map.of("a/b/c", "file content=c"));
        add(c, "name-inner-dotdot", APPLIED_SAFELY, o -> tar().dirs("a/x").file("a/x/../c", "c"),
                Map.of("a/c", "file content=c", "a/x/c", "absent"));
        add(c, "name-inner-dotdot-is-lexical", APPLIED_SAFELY,
                o -> tar().dir("a").dir("elsewhere").symlink("a/s", "/elsewhere").file("a/s/../c", "c"),
                Map.of("a/c", "file content=c", "c", "absent", "a/s", "symlink target=/elsewhere"));
        add(c, "name-rooted-dotdot", APPLIED_SAFELY, o -> tar().file("/../top", "t"), Map.of("top", "file content=t"));
        add(c, "hardlink-target-leading-slash", APPLIED_SAFELY, o -> tar().file("f", "x").link("l", "/f"),
                Map.of("l", "file nlink=2 content=x"));
        add(c, "hardlink-target-inner-dotdot", APPLIED_SAFELY, o -> tar().dirs("a/b").file("a/f", "x").link("l", "a/b/../f"),
                Map.of("l", "file nlink=2 content=x"));
    }

    private static void throughSymlinks(List<HostileCase> c) {
        add(c, "usrmerge", APPLIED_SAFELY, o -> tar().dirs("usr/bin").symlink("bin", "usr/bin").file("bin/sh", "#!", 0755),
                Map.of("usr/bin/sh", "file mode=755 content=#!", "bin", "symlink target=usr/bin"));
        add(c, "entry-through-absolute-symlink", APPLIED_SAFELY, o -> tar().dir("real").symlink("link", "/real").file("link/f", "f"),
                Map.of("real/f", "file content=f", "link", "symlink target=/real"));
        add(c, "entry-through-symlink-chain", APPLIED_SAFELY,
                o -> tar().dirs("usr/lib").symlink("lib", "usr/lib").symlink("lib64", "/lib").file("lib64/ld.so", "elf"),
                Map.of("usr/lib/ld.so", "file content=elf"));
        add(c, "entry-through-climbing-symlink", APPLIED_SAFELY,
                o -> tar().dirs("a/b").dir("real").symlink("a/b/link", "../../../../../real").file("a/b/link/f", "f"),
                Map.of("real/f", "file content=f"));
        add(c, "entry-through-dangling-symlink-makes-its-target", APPLIED_SAFELY,
                o -> tar().symlink("link", "/made/here").file("link/f", "f"),
                Map.of("made/here", "dir mode=755", "made/here/f", "file content=f", "link", "symlink target=/made/here"));
        add(c, "directory-entry-through-symlink", APPLIED_SAFELY,
                o -> tar().dir("real").symlink("link", "real").dir("link/sub", 0750, Tars.MTIME).file("link/sub/f", "f"),
                Map.of("real/sub", "dir mode=750 mtime=" + T, "real/sub/f", "file content=f"));
        add(c, "hardlink-target-through-symlink", APPLIED_SAFELY,
                o -> tar().dir("real").file("real/f", "x").symlink("link", "/real").link("h", "link/f"),
                Map.of("h", "file nlink=2 content=x", "real/f", "file nlink=2 content=x"));
        add(c, "whiteout-through-symlink", APPLIED_SAFELY,
                o -> tar().dir("real").file("real/f", "gone").file("real/keep", "kept").symlink("link", "/real").file("link/.wh.f", ""),
                Map.of("real/f", "absent", "real/keep", "file content=kept", "link", "symlink target=/real"));
    }

    private static void directories(List<HostileCase> c) {
        add(c, "dir-mode-and-time-exact", APPLIED_SAFELY, o -> tar().dir("d", 0711, Tars.MTIME).file("d/f", "f"),
                Map.of("d", "dir mode=711 mtime=" + T));
        add(c, "dir-special-bits", APPLIED_SAFELY, o -> tar().dir("tmp", 01777, Tars.MTIME).dir("sg", 02750, Tars.MTIME),
                Map.of("tmp", "dir mode=1777", "sg", "dir mode=2750"));
        add(c, "dir-merged-takes-the-later-mode-and-time", APPLIED_SAFELY,
                o -> tar().dir("d", 0700, Tars.MTIME).file("d/f", "f").dir("d", 0755, T2 * 1_000_000_000L),
                Map.of("d", "dir mode=755 mtime=" + T2, "d/f", "file content=f"));
        add(c, "dir-entry-after-its-contents", APPLIED_SAFELY, o -> tar().file("late/f", "f").dir("late", 0750, Tars.MTIME),
                Map.of("late", "dir mode=750 mtime=" + T, "late/f", "file content=f"));
        add(c, "dir-root-entry", APPLIED_SAFELY, o -> tar().dir("./", 0755, Tars.MTIME).file("f", "f"), Map.of("f", "file content=f"));
        add(c, "file-setuid-mode", APPLIED_SAFELY, o -> tar().file("su", "x", 04755), Map.of("su", "file mode=4755"));
    }

    private static void streams(List<HostileCase> c) {
        addRaw(c, "stream-without-end-blocks", APPLIED_SAFELY, o -> tar().file("f", "x").truncated(), Map.of("f", "file content=x"));
        addRaw(c, "stream-one-end-block", APPLIED_SAFELY, o -> {
            byte[] t = tar().file("f", "x").bytes();
            return java.util.Arrays.copyOf(t, t.length - 512);
        }, Map.of("f", "file content=x"));
        addRaw(c, "stream-data-after-end", APPLIED_SAFELY, o -> {
            byte[] t = tar().file("f", "x").bytes();
            byte[] junk = new byte[1024];
            java.util.Arrays.fill(junk, (byte) 'j');
            byte[] all = java.util.Arrays.copyOf(t, t.length + junk.length);
            System.arraycopy(junk, 0, all, t.length, junk.length);
            return all;
        }, Map.of("f", "file content=x"));
        addRaw(c, "stream-zero-block-then-header", REFUSED, o -> {
            byte[] a = tar().file("f", "x").truncated(), b = tar().file("g", "y").bytes();
            byte[] all = java.util.Arrays.copyOf(a, a.length + 512 + b.length);
            System.arraycopy(b, 0, all, a.length + 512, b.length);
            return all;
        }, Map.of());
        addRaw(c, "stream-truncated-header", REFUSED, o -> java.util.Arrays.copyOf(tar().file("f", "x").bytes(), 300), Map.of());
        addRaw(c, "stream-bad-octal-digit", REFUSED,
                o -> tar().rawHeader(u -> u.name("f").put(124, 12, "0000000001x\0"), true, new byte[]{'x'}).bytes(), Map.of());
        addRaw(c, "stream-space-padded-numbers", APPLIED_SAFELY,
                o -> tar().rawHeader(u -> u.name("f").put(100, 8, "  644  \0").put(124, 12, "          1 "), true, new byte[]{'x'}).bytes(),
                Map.of("f", "file mode=644 content=x"));
        addRaw(c, "stream-v7-directory-by-trailing-slash", APPLIED_SAFELY,
                o -> tar().rawHeader(u -> u.name("olddir/").type((byte) 0).mode(0750), true, new byte[0]).bytes(),
                Map.of("olddir", "dir mode=750"));
        addRaw(c, "stream-base256-uid", APPLIED_SAFELY,
                o -> tar().rawHeader(u -> u.name("f").number(108, 8, 3_000_000_000L).size(1), true, new byte[]{'x'}).bytes(),
                Map.of("f", "file content=x"));
        add(c, "stream-gnu-long-link-target", APPLIED_SAFELY,
                o -> tar().gnuLong(TarHeader.GNU_LONGLINK, "t/" + "x".repeat(150)).symlink("s", "short"),
                Map.of("s", "symlink target=t/" + "x".repeat(150)));
        add(c, "stream-pax-long-name", APPLIED_SAFELY, o -> tar().pax(TarHeader.PAX_LOCAL, "path", "d/" + "n".repeat(200)).file("short", "x"),
                Map.of("d/" + "n".repeat(200), "file content=x", "short", "absent"));
        addRaw(c, "stream-git-archive-global-header", APPLIED_SAFELY, o -> {
            Tars t = tar().raw(globalHeader("pax_global_header", "comment", "0123456789abcdef")).file("f", "x");
            return t.bytes();
        }, Map.of("f", "file content=x", "pax_global_header", "absent"));
    }

    /** A global extended header as git archive writes it: named pax_global_header, a comment record. */
    private static byte[] globalHeader(String name, String key, String value) {
        java.io.ByteArrayOutputStream r = new java.io.ByteArrayOutputStream();
        dev.strata.archive.tar.Pax.record(r, key, value);
        byte[] rec = r.toByteArray();
        dev.strata.archive.tar.Ustar u = new dev.strata.archive.tar.Ustar().magic().name(name).mode(0666).size(rec.length)
                .mtime(T).type(TarHeader.PAX_GLOBAL).checksum();
        byte[] all = java.util.Arrays.copyOf(u.bytes(), 512 + Tars.padded(rec).length);
        System.arraycopy(rec, 0, all, 512, rec.length);
        return all;
    }
}
