package dev.strata.conformance.hostile;

import dev.strata.conformance.hostile.HostileCase.Expect;
import dev.strata.archive.tar.TarHeader;
import dev.strata.nativeio.Kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.strata.conformance.hostile.HostileCase.Expect.APPLIED_SAFELY;
import static dev.strata.conformance.hostile.HostileCase.Expect.REFUSED;
import static dev.strata.conformance.hostile.Tars.tar;

/**
 * Hostile tar archives, generated in memory: the breakout tests of moby's {@code pkg/archive}
 * ({@code TestUntarInvalidFilenames}, {@code TestUntarInvalidHardlink}, {@code TestUntarInvalidSymlink},
 * {@code TestUntarHardlinkToSymlink}) and containerd's {@code archive.TestBreakouts}, re-aimed at a directory outside
 * the layer, plus cases of our own (whiteouts through symlinks, overlay xattrs, devices, malformed headers).
 *
 * <p>How to use it: make an empty layer directory and, elsewhere, an outside directory;
 * {@link #populateOutside(Path)} it; take {@link #snapshot(Path)} of it; apply {@code case.tar().apply(outside)};
 * assert that {@link HostileCase.Expect#REFUSED} cases threw a StorageException naming the entry, and that the
 * outside snapshot is unchanged.
 *
 * <p>Expectations are what containerd's {@code archive.Apply} and moby's chrooted {@code ApplyLayer} do (the
 * differential test in layer-archive applies every case with both): symlink targets are kept verbatim whatever they
 * point at; names lose a leading {@code /} and are cleaned lexically; paths through symlinks resolve inside the layer,
 * missing parents are made where they resolve (containerd's mkparent). Where the engines disagree Strata follows
 * containerd, and it is stricter than both in one rule of its own: a relative name that climbs above the root
 * ({@code ../x}) is refused where the engines clamp it to the root. {@link EngineCompatCases} adds well-formed layers
 * that the engines apply, with what each must produce.
 */
public final class HostileCorpus {
    private HostileCorpus() {
    }

    /** Where a case aims: the outside directory as an absolute name, and as a climb from anywhere in the layer. */
    private record Outside(String abs) {
        /** {@code ../../...} deep enough to reach the filesystem root from any layer, then the outside path. */
        String up() {
            return "../".repeat(48) + abs.substring(1);
        }

        /** The outside path without its leading slash: the same path inside the layer. */
        String inLayer() {
            return abs.substring(1);
        }
    }

    private static List<HostileCase> list;

    /**
     * The corpus for the way drivers apply by default ({@link dev.strata.archive.ApplyOptions#of}): device nodes are
     * permitted exactly when this process is root.
     */
    public static List<HostileCase> cases() {
        return cases(Kernel.isRoot());
    }

    /**
     * The corpus for an apply that permits device nodes or not: the device cases are {@link Expect#REFUSED} when
     * they are not permitted, {@link Expect#APPLIED_SAFELY} when they are. Every other case is the same.
     */
    public static List<HostileCase> cases(boolean devicesAllowed) {
        List<HostileCase> c = new ArrayList<>();
        names(c);
        symlinks(c);
        hardlinks(c);
        whiteouts(c);
        devices(c, devicesAllowed ? APPLIED_SAFELY : REFUSED);
        xattrs(c);
        malformed(c);
        EngineCompatCases.add(c);
        return List.copyOf(c);
    }

    /**
     * Fills the outside directory with what the cases aim at: {@code hello}, {@code perm400} (mode 0400),
     * {@code victim/hello} and {@code etc/passwd}.
     */
    public static void populateOutside(Path dir) {
        try {
            java.nio.file.Files.createDirectories(dir.resolve("victim"));
            java.nio.file.Files.createDirectories(dir.resolve("etc"));
            java.nio.file.Files.writeString(dir.resolve("hello"), "hello from outside\n");
            java.nio.file.Files.writeString(dir.resolve("victim/hello"), "victim\n");
            java.nio.file.Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
            Path p = dir.resolve("perm400");
            java.nio.file.Files.writeString(p, "...");
            java.nio.file.Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("r--------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A recursive description of a directory, symlinks not followed: relative path ("" for the directory itself)
     * to type, mode, owner, size, mtime, a SHA-256 of a file's content, a symlink's target, a device number and the
     * xattrs. Two equal snapshots mean nothing there changed.
     */
    public static Map<String, String> snapshot(Path dir) {
        return Snapshot.of(dir);
    }

    private static void add(List<HostileCase> c, String name, String mirrors, Expect expect, Function<Outside, Tars> build) {
        c.add(new HostileCase(name, mirrors, expect, p -> {
            if (!p.isAbsolute()) throw new IllegalArgumentException("outside directory must be absolute: " + p);
            return build.apply(new Outside(p.toString())).bytes();
        }));
    }

    private static void addRaw(List<HostileCase> c, String name, String mirrors, Expect expect, Function<Outside, byte[]> build) {
        c.add(new HostileCase(name, mirrors, expect, p -> build.apply(new Outside(p.toString()))));
    }

    private static void names(List<HostileCase> c) {
        String moby = "moby TestUntarInvalidFilenames";
        add(c, "name-dotdot", moby, REFUSED, o -> tar().file("../victim/dotdot", "x"));
        add(c, "name-slash-dotdot", moby, APPLIED_SAFELY, o -> tar().file("/../victim/slash-dotdot", "x"));
        add(c, "name-dotdot-climb-to-outside", moby, REFUSED, o -> tar().file(o.up() + "/hello", "overwritten"));
        add(c, "name-absolute-outside", "strata", APPLIED_SAFELY, o -> tar().file(o.abs() + "/absolute", "x"));
        add(c, "name-inner-dotdot", "strata", REFUSED, o -> tar().dirs("a/b").file("a/b/../../../../x", "x"));
        add(c, "name-empty-symlink", "containerd TestBreakouts/SymlinkEmptyFilename", REFUSED,
                o -> tar().dir("etc").file("etc/passwd", "inside").symlink("", o.abs() + "/").link("localpasswd", "etc/passwd"));
        add(c, "name-dot-as-file", "strata", REFUSED, o -> tar().file(".", "replaces the layer root"));
        add(c, "name-dot-as-symlink-to-outside", "strata", REFUSED, o -> tar().symlink("./", o.abs()));
        add(c, "name-dotdot-symlink", "containerd TestBreakouts/SymlinkParentDirectory", REFUSED,
                o -> tar().dir("etc").file("etc/passwd", "inside").symlink("..", o.abs() + "/").link("localpasswd", "etc/passwd"));
        add(c, "name-symlink-sub-dotdot", "containerd TestBreakouts/SymlinkParentRelative", APPLIED_SAFELY,
                o -> tar().dir("etc").file("etc/passwd", "inside").symlink("localetc/sub/..", o.abs() + "/")
                        .link("localetc/localpasswd", "etc/passwd"));
        add(c, "name-nul-in-pax-path", "strata", REFUSED,
                o -> tar().pax(TarHeader.PAX_LOCAL, "path", "safe\0/" + o.up() + "/nul-evil").file("benign", "x"));
        add(c, "name-nul-in-ustar-field", "strata", APPLIED_SAFELY, o -> {
            byte[] data = "x".getBytes(StandardCharsets.UTF_8);
            return tar().rawHeader(u -> u.put(0, 100, TarHeader.raw("safe\0" + o.up()).substring(0, 100)).size(data.length), true, data);
        });
        add(c, "name-pax-path-overrides-ustar", "strata", REFUSED,
                o -> tar().pax(TarHeader.PAX_LOCAL, "path", o.up() + "/pax-evil").file("benign", "x"));
        add(c, "name-gnu-longname-escape", "strata", REFUSED,
                o -> tar().gnuLong(TarHeader.GNU_LONGNAME, o.up() + "/longname-evil").file("benign", "x"));
        add(c, "name-global-pax-path-ignored", "moby TestTypeXGlobalHeaderDoesNotFail", APPLIED_SAFELY,
                o -> tar().pax(TarHeader.PAX_GLOBAL, "path", o.up() + "/global-evil").file("benign", "x"));
        add(c, "name-component-too-long", "strata", REFUSED, o -> tar().file("d/" + "n".repeat(300), "x"));
        add(c, "name-path-too-long", "strata", REFUSED, o -> tar().file(("d".repeat(200) + "/").repeat(22) + "f", "x"));
        add(c, "name-whiteout-prefixed-directory", "containerd TestBreakouts/WhiteoutDirectoryName", APPLIED_SAFELY,
                o -> tar().dir("etc").file("etc/passwd", "all users").symlink("localetc", o.abs()).file(".wh.etc/somefile", "non-empty"));
    }

    private static void symlinks(List<HostileCase> c) {
        String moby = "moby TestUntarInvalidSymlink";
        add(c, "symlink-dotdot", moby, APPLIED_SAFELY, o -> tar().symlink("dotdot", "../victim/hello"));
        add(c, "symlink-climb-to-outside", moby, APPLIED_SAFELY, o -> tar().symlink("dotdot", o.up() + "/hello"));
        add(c, "symlink-slash-dotdot-kept", moby, APPLIED_SAFELY, o -> tar().symlink("slash-dotdot", "/../victim/hello"));
        add(c, "symlink-escape-then-file", moby, APPLIED_SAFELY,
                o -> tar().symlink("loophole-victim", o.up() + "/victim").file("loophole-victim/file", "x"));
        add(c, "symlink-escape-then-symlink", moby, APPLIED_SAFELY,
                o -> tar().symlink("loophole-victim", o.up() + "/victim").symlink("symlink", "loophole-victim/hello"));
        add(c, "symlink-escape-then-hardlink", moby, REFUSED,
                o -> tar().symlink("loophole-victim", o.up() + "/victim").link("hardlink", "loophole-victim/hello"));
        add(c, "symlink-escape-then-replace", moby, APPLIED_SAFELY,
                o -> tar().symlink("loophole-victim", o.up() + "/victim").file("loophole-victim", "x"));
        add(c, "symlink-nested-escape-then-file", moby, APPLIED_SAFELY,
                o -> tar().symlink("dir/loophole", "../../" + o.up() + "/victim").file("dir/loophole/newdir/newfile", "x"));
        add(c, "symlink-absolute-to-outside-then-file", "containerd TestBreakouts/SymlinkAbsolute", APPLIED_SAFELY,
                o -> tar().symlink("localetc", o.abs() + "/etc").file("localetc/unbroken", "broken"));
        add(c, "symlink-absolute-then-file-lands-inside", "containerd TestBreakouts/SymlinkAbsolute", APPLIED_SAFELY,
                o -> tar().dirs(o.inLayer() + "/etc").symlink("localetc", o.abs() + "/etc").file("localetc/unbroken", "unbroken"));
        add(c, "symlink-up-and-out-absolute", "containerd TestBreakouts/SymlinkUpAndOut", APPLIED_SAFELY,
                o -> tar().dirs(o.inLayer() + "/etc").dir("dummy").symlink("localetc", "/dummy/../" + o.inLayer() + "/etc")
                        .file("localetc/unbroken", "unbroken"));
        add(c, "symlink-chain-absolute", "containerd TestBreakouts/SymlinkMultipleAbsolute", APPLIED_SAFELY,
                o -> tar().dirs(o.inLayer() + "/etc").dir("dummy").symlink("dummy/etc", o.abs() + "/etc")
                        .symlink("localetc", "/dummy/etc").file("localetc/unbroken", "unbroken"));
        add(c, "symlink-chain-relative", "containerd TestBreakouts/SymlinkMultipleRelative", APPLIED_SAFELY,
                o -> tar().dirs(o.inLayer() + "/etc").dir("dummy").symlink("dummy/etc", o.abs() + "/etc")
                        .symlink("localetc", "./dummy/etc").file("localetc/unbroken", "unbroken"));
        add(c, "symlink-chain-escaping-at-the-end", "strata", APPLIED_SAFELY,
                o -> tar().symlink("a", "b").symlink("b", "c").symlink("c", o.up()).file("a/hello", "x"));
        add(c, "symlink-loop-then-file", "strata", REFUSED, o -> tar().symlink("a", "b").symlink("b", "a").file("a/file", "x"));
        add(c, "symlink-empty-file", "containerd TestBreakouts/SymlinkEmptyFile", APPLIED_SAFELY,
                o -> tar().dirs(o.inLayer()).file(o.inLayer() + "/hello", "notempty").symlink("localetc", o.abs())
                        .file("localetc/hello", ""));
        add(c, "symlink-magic-proc-self-root", "strata", APPLIED_SAFELY,
                o -> tar().symlink("p", "/proc/self/root" + o.abs()).file("p/evil", "x"));
        add(c, "symlink-override-directory-relative", "containerd TestBreakouts/SymlinkOverrideDirectoryRelative", APPLIED_SAFELY,
                o -> tar().dir("etc").file("etc/passwd", "inside").dir("localetc").symlink("localetc", o.up() + "/etc")
                        .link("localetc/localpasswd", "etc/passwd"));
        add(c, "symlink-override-directory-absolute", "containerd TestBreakouts/SymlinkOverrideDirectory", APPLIED_SAFELY,
                o -> tar().dir("etc").file("etc/passwd", "inside").dir("localetc").symlink("localetc", "/etc")
                        .link("localetc/localpasswd", "etc/passwd"));
        add(c, "symlink-replaces-dir-then-entries", "strata", APPLIED_SAFELY,
                o -> tar().dir("d").file("d/f", "x").symlink("d", o.abs()).file("d/hello", "overwritten"));
        add(c, "directory-override-symlink", "containerd TestBreakouts/DirectoryOverrideSymlink", APPLIED_SAFELY,
                o -> tar().symlink("localetc", o.abs() + "/etc").dir("localetc").file("localetc/passwd", "inside"));
        add(c, "file-over-symlink-to-outside", "strata", APPLIED_SAFELY,
                o -> tar().symlink("s", o.abs() + "/hello").file("s", "pwned"));
        add(c, "dir-holding-outside-symlink-replaced-by-file", "strata", APPLIED_SAFELY,
                o -> tar().dir("d").symlink("d/l", o.abs()).symlink("d/m", o.abs() + "/hello").file("d", "x"));
    }

    private static void hardlinks(List<HostileCase> c) {
        String moby = "moby TestUntarInvalidHardlink";
        add(c, "hardlink-dotdot", moby, REFUSED, o -> tar().link("dotdot", "../victim/hello"));
        add(c, "hardlink-slash-dotdot", moby, REFUSED, o -> tar().link("slash-dotdot", "/../victim/hello"));
        add(c, "hardlink-escape-then-file", moby, REFUSED,
                o -> tar().link("loophole-victim", o.up() + "/victim", 0755).file("loophole-victim/file", "x"));
        add(c, "hardlink-escape-then-symlink", moby, REFUSED,
                o -> tar().link("loophole-victim", o.up() + "/victim", 0755).symlink("symlink", "loophole-victim/hello"));
        add(c, "hardlink-escape-then-hardlink", moby, REFUSED,
                o -> tar().link("loophole-victim", o.up() + "/victim", 0755).link("hardlink", "loophole-victim/hello"));
        add(c, "hardlink-escape-then-replace", moby, REFUSED,
                o -> tar().link("loophole-victim", o.up() + "/victim", 0755).file("loophole-victim", "x"));
        add(c, "hardlink-to-symlink", "moby TestUntarHardlinkToSymlink", APPLIED_SAFELY,
                o -> tar().symlink("symlink1", "regfile").link("symlink2", "symlink1").file("regfile", "x"));
        add(c, "hardlink-to-symlink-pointing-out", "containerd TestBreakouts/HardlinkSymlinkAbsolute", APPLIED_SAFELY,
                o -> tar().symlink("passwdlink", o.abs() + "/etc/passwd").link("localpasswd", "passwdlink")
                        .file("localpasswd", "pwned"));
        add(c, "hardlink-through-symlinked-dir-to-outside", "containerd TestBreakouts/HardlinkAbsolute", REFUSED,
                o -> tar().symlink("localetc", o.abs() + "/etc").link("localpasswd", "localetc/passwd"));
        add(c, "hardlink-relative-via-escaping-symlink", "containerd TestBreakouts/HardlinkRelative", REFUSED,
                o -> tar().dir("breakouts").symlink("breakouts/d1", "../../" + o.up() + "/etc").link("breakouts/mypasswd", "breakouts/d1/passwd"));
        add(c, "hardlink-down-and-out", "containerd TestBreakouts/HardlinkDownAndOut", REFUSED,
                o -> tar().dir("breakouts").dir("downandout").symlink("breakouts/d1", "../downandout/../../" + o.up() + "/etc")
                        .link("breakouts/mypasswd", "breakouts/d1/passwd"));
        add(c, "hardlink-relative-long", "containerd TestBreakouts/HardlinkRelativeLong", REFUSED,
                o -> tar().symlink("localetc", o.up() + "/etc").link("localpasswd", "localetc/passwd"));
        add(c, "hardlink-direct-relative", "containerd TestBreakouts/HardlinkDirectRelative", REFUSED,
                o -> tar().link("localpasswd", o.up() + "/etc/passwd"));
        add(c, "hardlink-direct-absolute", "containerd TestBreakouts/HardlinkDirectAbsolute", REFUSED,
                o -> tar().link("localpasswd", o.abs() + "/etc/passwd"));
        add(c, "hardlink-symlink-before-target", "containerd TestBreakouts/HardlinkSymlinkBeforeCreateTarget", APPLIED_SAFELY,
                o -> tar().dir("etc").symlink("localpasswd", o.abs() + "/etc/passwd").link("localpasswd-dup", "localpasswd")
                        .file("etc/passwd", "after"));
        add(c, "hardlink-symlink-chmod", "containerd TestBreakouts/HardlinkSymlinkChmod", APPLIED_SAFELY,
                o -> tar().symlink("ep", o.abs() + "/perm400").link("sketchylink", "ep", 0777));
        add(c, "hardlink-then-overwrite", "containerd TestBreakouts/DirectoryOverrideSymlinkAndHardlink", APPLIED_SAFELY,
                o -> tar().dir("etc").file("etc/passwd", "inside").symlink("localetc", "etc").link("localetc/localpasswd", "etc/passwd")
                        .dir("localetc").file("localetc/localpasswd", "different"));
        add(c, "hardlink-to-directory", "strata", REFUSED, o -> tar().dir("d").link("l", "d"));
        add(c, "hardlink-to-missing", "strata", REFUSED, o -> tar().link("l", "nothere"));
        add(c, "hardlink-pax-linkpath-escape", "strata", REFUSED,
                o -> tar().file("benign", "x").pax(TarHeader.PAX_LOCAL, "linkpath", o.up() + "/hello").link("l", "benign"));
    }

    private static void whiteouts(List<HostileCase> c) {
        String cd = "containerd TestBreakouts/";
        add(c, "whiteout-through-symlink", cd + "WhiteoutSymlinkPath", APPLIED_SAFELY,
                o -> tar().dirs(o.inLayer()).file(o.inLayer() + "/hello", "inside").symlink("localetc", o.abs())
                        .file("localetc/.wh.hello", ""));
        add(c, "whiteout-through-symlink-to-outside", cd + "WhiteoutSymlinkPath", APPLIED_SAFELY,
                o -> tar().symlink("localetc", o.abs()).file("localetc/.wh.hello", ""));
        add(c, "opaque-through-symlink", "strata", APPLIED_SAFELY,
                o -> tar().symlink("localetc", o.abs()).file("localetc/.wh..wh..opq", ""));
        add(c, "opaque-through-symlinked-dir-inside", "strata", APPLIED_SAFELY,
                o -> tar().dir("real").file("real/keep", "x").symlink("link", "real").file("link/.wh..wh..opq", ""));
        add(c, "whiteout-dead-symlink-parent", cd + "WhiteoutDeadSymlinkParent", APPLIED_SAFELY,
                o -> tar().dir("etc").file("etc/passwd", "all users").symlink("localetc", "/dne").file("localetc/.wh.etc", ""));
        add(c, "whiteout-root-parent", cd + "WhiteoutRootParent", REFUSED, o -> tar().dir("etc").file("etc/passwd", "x").file(".wh...", ""));
        add(c, "whiteout-parent", cd + "WhiteoutParent", REFUSED, o -> tar().dir("etc").file("etc/passwd", "x").file("etc/.wh...", ""));
        add(c, "whiteout-root", cd + "WhiteoutRoot", REFUSED, o -> tar().dir("etc").file("etc/passwd", "x").file(".wh..", ""));
        add(c, "whiteout-current-directory", cd + "WhiteoutCurrentDirectory", REFUSED,
                o -> tar().dir("etc").file("etc/passwd", "x").file("etc/.wh..", ""));
        add(c, "whiteout-relative-path", cd + "WhiteoutRelativePath", APPLIED_SAFELY,
                o -> tar().file("etc/passwd", "x").symlink("localetc", "/dne").file("dne/../.wh.etc", ""));
        add(c, "whiteout-empty-name", "strata", REFUSED, o -> tar().file(".wh.", ""));
        add(c, "whiteout-of-symlink-removes-only-the-link", cd + "WhiteoutSymlink", APPLIED_SAFELY,
                o -> tar().symlink("localetc", o.abs()).file(".wh.localetc", ""));
        add(c, "whiteout-of-dir-holding-outside-symlinks", "strata", APPLIED_SAFELY,
                o -> tar().symlink("d/l", o.abs()).symlink("d/m", o.abs() + "/hello").file(".wh.d", ""));
        add(c, "opaque-dir-holding-outside-symlinks", "strata", APPLIED_SAFELY,
                o -> tar().dir("d").symlink("d/l", o.abs()).symlink("d/m", o.abs() + "/hello").file("d/.wh..wh..opq", "")
                        .file("d/kept", "x"));
        add(c, "whiteout-typed-as-symlink", "strata", APPLIED_SAFELY,
                o -> tar().file("x", "x").symlink(".wh.x", o.abs() + "/hello"));
        add(c, "aufs-metadata-skipped", "moby UnpackLayer (WhiteoutMetaPrefix)", APPLIED_SAFELY,
                o -> tar().dir(".wh..wh.plnk").file(".wh..wh.plnk/1234.56", "x").file(".wh..wh.aufs", "").dir(".wh..wh.orph")
                        .file("plain", "x"));
    }

    private static void devices(List<HostileCase> c, Expect expect) {
        add(c, "device-char-when-not-permitted", "moby TestTarWithBlockCharFifo", expect,
                o -> tar().dir("dev").device("dev/null", TarHeader.CHAR, 1, 3));
        add(c, "device-block-when-not-permitted", "moby TestTarWithBlockCharFifo", expect,
                o -> tar().dir("dev").device("dev/sda", TarHeader.BLOCK, 8, 0));
        add(c, "device-raw-whiteout-char-0-0", "strata", expect, o -> tar().device("x", TarHeader.CHAR, 0, 0));
    }

    private static void xattrs(List<HostileCase> c) {
        byte[] y = {'y'};
        add(c, "xattr-trusted-overlay-opaque", "strata", APPLIED_SAFELY,
                o -> tar().fileWithXattr("d/", "trusted.overlay.opaque", y, TarHeader.DIRECTORY));
        add(c, "xattr-user-overlay-opaque", "strata", APPLIED_SAFELY,
                o -> tar().fileWithXattr("d/", "user.overlay.opaque", y, TarHeader.DIRECTORY));
        add(c, "xattr-trusted-overlay-redirect", "strata", APPLIED_SAFELY,
                o -> tar().fileWithXattr("d/", "trusted.overlay.redirect", TarHeader.raw(o.abs()).getBytes(StandardCharsets.ISO_8859_1), TarHeader.DIRECTORY));
        add(c, "xattr-trusted-overlay-metacopy", "strata", APPLIED_SAFELY,
                o -> tar().fileWithXattr("f", "trusted.overlay.metacopy", new byte[0], TarHeader.REGULAR));
        add(c, "xattr-libarchive-overlay-ignored", "strata", APPLIED_SAFELY,
                o -> tar().pax(TarHeader.PAX_LOCAL, "LIBARCHIVE.xattr.trusted.overlay.opaque", "eQ==").dir("d"));
    }

    private static void malformed(List<HostileCase> c) {
        addRaw(c, "pax-header-oversized", "strata", REFUSED, o -> tar()
                .rawHeader(u -> u.name("PaxHeaders/big").type(TarHeader.PAX_LOCAL).size(1L << 30), true, new byte[512]).bytes());
        addRaw(c, "bad-checksum", "strata", REFUSED, o -> tar()
                .rawHeader(u -> u.name("f").size(1).put(148, 8, "0000001"), false, new byte[]{'x'}).bytes());
        addRaw(c, "truncated-data", "strata", REFUSED, o -> tar()
                .rawHeader(u -> u.name("f").size(4096), true, new byte[100]).truncated());
        add(c, "unknown-typeflag", "moby createTarFile (unhandled tar header type)", REFUSED,
                o -> tar().header("z", (byte) 'Z', 0644, h -> { }));
        add(c, "sparse-name-escape", "strata", REFUSED, o -> tar().pax(TarHeader.PAX_LOCAL, "GNU.sparse.major", "1",
                "GNU.sparse.minor", "0", "GNU.sparse.name", o.up() + "/sparse-evil", "GNU.sparse.realsize", "1")
                .rawHeader(u -> u.name("GNUSparseFile.0/x").size(512), true, "0\n".getBytes(StandardCharsets.ISO_8859_1)));
        add(c, "sparse-map-beyond-size", "strata", REFUSED, o -> tar().pax(TarHeader.PAX_LOCAL, "GNU.sparse.major", "1",
                "GNU.sparse.minor", "0", "GNU.sparse.name", "s", "GNU.sparse.realsize", "10")
                .rawHeader(u -> u.name("GNUSparseFile.0/s").size(1024), true, Tars.padded("1\n4096\n512\n".getBytes(StandardCharsets.ISO_8859_1))));
        addRaw(c, "size-base256-negative", "strata", REFUSED, o -> tar()
                .rawHeader(u -> u.name("f").number(124, 12, -1), true, new byte[0]).bytes());
        add(c, "uid-out-of-range", "strata", REFUSED,
                o -> tar().pax(TarHeader.PAX_LOCAL, "uid", Long.toString(1L << 40)).file("f", "x"));
        add(c, "symlink-target-with-nul", "strata", REFUSED,
                o -> tar().pax(TarHeader.PAX_LOCAL, "linkpath", "ok\0" + o.abs()).symlink("s", "ok"));
    }
}
