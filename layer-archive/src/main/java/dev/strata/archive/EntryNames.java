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
     * The entry's path relative to the layer root, without "./", empty components or a trailing slash; "" for the
     * root itself.
     *
     * @throws Refused for empty and absolute names, {@code ..} components, names too long
     */
    static String normalize(String raw) throws Refused {
        if (raw.isEmpty()) throw new Refused("empty name");
        if (raw.indexOf(0) >= 0) throw new Refused("name contains a NUL byte");
        if (raw.charAt(0) == '/') throw new Refused("absolute name");
        StringBuilder out = new StringBuilder(raw.length());
        int i = 0, n = raw.length();
        while (i < n) {
            int j = raw.indexOf('/', i);
            if (j < 0) j = n;
            int len = j - i;
            if (len == 0 || (len == 1 && raw.charAt(i) == '.')) {
                i = j + 1;
                continue;
            }
            if (len == 2 && raw.charAt(i) == '.' && raw.charAt(i + 1) == '.') throw new Refused("name has a \"..\" component");
            if (len > NAME_MAX) throw new Refused("a name component is longer than " + NAME_MAX + " bytes");
            if (!out.isEmpty()) out.append('/');
            out.append(raw, i, j);
            i = j + 1;
        }
        if (out.length() > PATH_MAX) throw new Refused("name is longer than " + PATH_MAX + " bytes");
        return out.toString();
    }

    static String parent(String rel) {
        int s = rel.lastIndexOf('/');
        return s < 0 ? "" : rel.substring(0, s);
    }

    static String base(String rel) {
        return rel.substring(rel.lastIndexOf('/') + 1);
    }

    /** Whether a relative symlink target, read from the link's directory, climbs above the layer root (moby's rule). */
    static boolean climbsOut(String linkDir, String target) {
        if (target.startsWith("/")) return false; // absolute targets mean the container's root
        int depth = linkDir.isEmpty() ? 0 : linkDir.split("/").length;
        for (String c : target.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (--depth < 0) return true;
            } else {
                depth++;
            }
        }
        return false;
    }

    /** Whether a non-final component is whiteout-prefixed (never valid in an OCI layer). */
    static boolean whiteoutDirectory(String rel) {
        int i = 0;
        while (true) {
            int j = rel.indexOf('/', i);
            if (j < 0) return false;
            if (rel.startsWith(WH, i)) return true;
            i = j + 1;
        }
    }
}
