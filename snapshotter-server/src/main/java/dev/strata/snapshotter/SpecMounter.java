package dev.strata.snapshotter;

import dev.strata.api.MountSpecs.MountSpec;
import dev.strata.api.StorageException;
import dev.strata.nativeio.FsContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes an overlay mount spec with the new mount API: one {@code fsconfig(lowerdir+)} per lower, so a stack of any
 * depth (up to the kernel's 500) mounts, where mount(2) and containerd's mount code stop at one page of options.
 */
final class SpecMounter {
    private SpecMounter() {
    }

    static void mount(MountSpec spec, Path target, boolean readOnly) {
        if (!spec.type().equals("overlay")) {
            throw new StorageException("mount", target.toString(), "only overlay specs are mounted by the snapshotter, not " + spec.type());
        }
        int attrs = readOnly ? FsContext.MOUNT_ATTR_RDONLY : 0;
        try (FsContext fc = FsContext.open("overlay")) {
            fc.set("source", spec.source());
            for (String o : spec.options()) {
                int eq = o.indexOf('=');
                String key = eq < 0 ? o : o.substring(0, eq);
                String value = eq < 0 ? null : o.substring(eq + 1);
                switch (key) {
                    case "lowerdir" -> fc.setEach("lowerdir+", splitLowers(value));
                    case "ro" -> attrs |= FsContext.MOUNT_ATTR_RDONLY;
                    case "rw" -> { }
                    case "nodev" -> attrs |= FsContext.MOUNT_ATTR_NODEV;
                    case "nosuid" -> attrs |= FsContext.MOUNT_ATTR_NOSUID;
                    case "noexec" -> attrs |= FsContext.MOUNT_ATTR_NOEXEC;
                    default -> {
                        if (value == null) fc.flag(key);
                        else fc.set(key, unescape(value));
                    }
                }
            }
            fc.mountAt(target, attrs);
        }
    }

    /** overlay's lowerdir: ':' separates, a backslash escapes ':', ',' and itself. */
    static List<String> splitLowers(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                b.append(value.charAt(++i));
            } else if (c == ':') {
                out.add(b.toString());
                b.setLength(0);
            } else {
                b.append(c);
            }
        }
        out.add(b.toString());
        return out;
    }

    /** A single path with overlay's backslash escapes removed. */
    static String unescape(String value) {
        if (value.indexOf('\\') < 0) return value;
        StringBuilder b = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            b.append(c == '\\' && i + 1 < value.length() ? value.charAt(++i) : c);
        }
        return b.toString();
    }
}
