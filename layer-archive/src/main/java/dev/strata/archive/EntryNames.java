package dev.strata.archive;

/**
 * The name rules of apply, checked before anything touches the disk. They are policy, not the safety mechanism:
 * every path is also resolved beneath the layer root by the kernel (openat2), so a name that passed these checks
 * still cannot reach outside.
 */
final class EntryNames {
    static final String WH = ".wh.", OPAQUE = ".wh..wh..opq", META = ".wh..wh.";
    static final int NAME_MAX = 255, PATH_MAX = 4095;

    private EntryNames() {
    }

    /** A refusal with its reason. */
    static final class Refused extends Exception {
        Refused(String why) {
            super(why, null, false, false);
        }
    }

    /**
     * The entry's path relative to the layer root, cleaned lexically as Go's {@code filepath.Clean} does (what
     * containerd's and moby's apply do first): empty and {@code .} components go, {@code x/..} pairs cancel, and a
     * leading {@code /} is dropped ({@code ..} at the start of an absolute name stays at the root, as
     * {@code Clean("/../x")} is {@code /x}). "" is the root itself. Symlinks play no part here: {@code a/x/../c} is
     * {@code a/c} even when {@code a/x} is a symlink, as in the engines.
     *
     * @throws Refused for an empty name, a NUL byte, a relative name that climbs above the root ({@code ../x},
     *                 {@code a/../../x}), names too long
     */
    static String normalize(String raw) throws Refused {
        if (raw.isEmpty()) throw new Refused("empty name");
        if (raw.indexOf(0) >= 0) throw new Refused("name contains a NUL byte");
        boolean rooted = raw.charAt(0) == '/';
        if (raw.indexOf("..") < 0 && !rooted && raw.indexOf("//") < 0 && raw.indexOf("./") < 0 && !raw.endsWith("/.")) {
            // the usual name: nothing to clean but a trailing slash
            String rel = raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw;
            if (rel.equals(".")) return "";
            checkLengths(rel);
            return rel;
        }
        java.util.ArrayDeque<String> out = new java.util.ArrayDeque<>();
        int i = 0, n = raw.length();
        while (i < n) {
            int j = raw.indexOf('/', i);
            if (j < 0) j = n;
            int len = j - i;
            if (len == 0 || (len == 1 && raw.charAt(i) == '.')) {
                // nothing
            } else if (len == 2 && raw.charAt(i) == '.' && raw.charAt(i + 1) == '.') {
                if (!out.isEmpty()) out.removeLast();
                else if (!rooted) throw new Refused("name climbs above the layer root");
            } else {
                out.addLast(raw.substring(i, j));
            }
            i = j + 1;
        }
        String rel = String.join("/", out);
        checkLengths(rel);
        return rel;
    }

    private static void checkLengths(String rel) throws Refused {
        if (rel.length() > PATH_MAX) throw new Refused("name is longer than " + PATH_MAX + " bytes");
        int start = 0;
        while (start <= rel.length()) {
            int j = rel.indexOf('/', start);
            if (j < 0) j = rel.length();
            if (j - start > NAME_MAX) throw new Refused("a name component is longer than " + NAME_MAX + " bytes");
            start = j + 1;
        }
    }

    static String parent(String rel) {
        int s = rel.lastIndexOf('/');
        return s < 0 ? "" : rel.substring(0, s);
    }

    static String base(String rel) {
        return rel.substring(rel.lastIndexOf('/') + 1);
    }
}
