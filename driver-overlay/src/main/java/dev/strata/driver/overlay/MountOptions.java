package dev.strata.driver.overlay;

import dev.strata.nativeio.FsContext;
import dev.strata.nativeio.Mounts;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The extra mount options of {@code overlay.mountopt}, split the way the kernel wants them: mount attributes
 * ({@code nodev}, {@code nosuid}, {@code noexec}) and overlay's own parameters ({@code metacopy=on},
 * {@code volatile}, ...). The driver owns the layer directories, so {@code lowerdir}, {@code upperdir} and
 * {@code workdir} cannot be given here.
 */
record MountOptions(List<Param> params, int attrFlags) {
    /** One overlay parameter; {@code value} is null for a flag such as {@code volatile}. */
    record Param(String key, String value) {
        @Override
        public String toString() {
            return value == null ? key : key + "=" + value;
        }
    }

    static final MountOptions NONE = new MountOptions(List.of(), 0);

    private static final Map<String, Integer> ATTRS = Map.of(
            "nodev", FsContext.MOUNT_ATTR_NODEV, "nosuid", FsContext.MOUNT_ATTR_NOSUID, "noexec", FsContext.MOUNT_ATTR_NOEXEC);
    /** overlay parameters (Documentation/filesystems/overlayfs.rst) that may be passed through. */
    private static final Set<String> VALUE_PARAMS = Set.of("redirect_dir", "index", "uuid", "nfs_export", "xino", "metacopy", "verity");
    private static final Set<String> FLAG_PARAMS = Set.of("volatile", "default_permissions");
    private static final Set<String> OWNED = Set.of("lowerdir", "lowerdir+", "upperdir", "workdir", "datadir+", "userxattr", "ro", "rw");

    MountOptions {
        params = List.copyOf(params);
    }

    /**
     * Parses a comma-separated list such as {@code nodev,metacopy=on}.
     *
     * @throws IllegalArgumentException naming the entry that is not allowed, and what is
     */
    static MountOptions parse(String list) {
        if (list == null || list.isBlank()) return NONE;
        List<Param> params = new ArrayList<>();
        int attrs = 0;
        for (String raw : list.split(",")) {
            String item = raw.trim();
            if (item.isEmpty()) continue;
            int eq = item.indexOf('=');
            String key = (eq < 0 ? item : item.substring(0, eq)).toLowerCase(Locale.ROOT);
            String value = eq < 0 ? null : item.substring(eq + 1);
            if (OWNED.contains(key)) {
                throw new IllegalArgumentException("\"" + key + "\" is set by the driver itself"
                        + (key.equals("userxattr") ? " (use overlay.userxattr=true)" : ""));
            }
            if (ATTRS.containsKey(key) && value == null) {
                attrs |= ATTRS.get(key);
            } else if (VALUE_PARAMS.contains(key) && value != null && !value.isEmpty()) {
                params.add(new Param(key, value));
            } else if (FLAG_PARAMS.contains(key) && value == null) {
                params.add(new Param(key, null));
            } else {
                throw new IllegalArgumentException("unsupported mount option \"" + item + "\" (allowed: nodev, nosuid, noexec, "
                        + "volatile, default_permissions, and redirect_dir=, index=, uuid=, nfs_export=, xino=, metacopy=, verity= with a value)");
            }
        }
        return new MountOptions(params, attrs);
    }

    boolean has(String key) {
        return params.stream().anyMatch(p -> p.key().equals(key));
    }

    /** The value of a parameter, or null. */
    String value(String key) {
        return params.stream().filter(p -> p.key().equals(key)).map(Param::value).reduce((a, b) -> b).orElse(null);
    }

    /** The same attributes as mount(2) flags. */
    long msFlags() {
        long f = 0;
        if ((attrFlags & FsContext.MOUNT_ATTR_NODEV) != 0) f |= Mounts.MS_NODEV;
        if ((attrFlags & FsContext.MOUNT_ATTR_NOSUID) != 0) f |= Mounts.MS_NOSUID;
        if ((attrFlags & FsContext.MOUNT_ATTR_NOEXEC) != 0) f |= Mounts.MS_NOEXEC;
        return f;
    }

    /** The mount attributes by name ({@code nodev}, ...), sorted. */
    List<String> attrNames() {
        List<String> all = new ArrayList<>();
        ATTRS.forEach((k, v) -> {
            if ((attrFlags & v) != 0) all.add(k);
        });
        all.sort(null);
        return all;
    }

    @Override
    public String toString() {
        List<String> all = attrNames();
        params.forEach(p -> all.add(p.toString()));
        return String.join(",", all);
    }
}
