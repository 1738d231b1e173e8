package dev.strata.driver.overlay;

import dev.strata.api.StorageException;
import dev.strata.nativeio.FsContext;
import dev.strata.nativeio.Mounts;
import dev.strata.nativeio.Native;
import dev.strata.nativeio.SyscallException;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Mounts one overlay. Two ways, chosen per mount by the {@link Policy}:
 * <ul>
 *   <li>the new mount API: fsopen, one {@code fsconfig(lowerdir+)} per lower (each value may be 256 bytes, the
 *   number of lowers is limited only by the kernel's 500), fsmount, move_mount; a failure carries the kernel's own
 *   text from the context;</li>
 *   <li>mount(2) with one option string, which the kernel copies into one page: past it the string is cut and
 *   mount fails with a misleading ENOENT, so the length is checked first and a clear error names the limit.</li>
 * </ul>
 * mount(2) gets the lowers as {@code <home>/l/<LID>} short links, as moby does; Strata never chdirs (a JVM cannot do
 * that safely), so mount(2) cannot use moby's relative-path trick. The new API gets each as its diff dir (no page
 * to fit; {@link LayerMounts}), a cheaper lookup than through the link. By default ({@link Policy#AUTO}) a stack whose
 * options fit in one page is mounted with mount(2), one system call where the new API takes five plus one per
 * layer, and a deeper one with the new API where the kernel has {@code lowerdir+}.
 */
final class OverlayMounter {
    /** The kernel's limit on lower layers of one overlay (OVL_MAX_STACK). */
    static final int KERNEL_MAX_LOWERS = 500;

    /** Which call mounts a stack. */
    enum Policy {
        /** mount(2) while the options fit in one page, the new API past it (if the kernel has lowerdir+). */
        AUTO,
        /** Always the new mount API. */
        FSOPEN,
        /** Always mount(2): the fallback for kernels without lowerdir+ (and a way to test it). */
        MOUNT
    }

    private static final class H {
        static final MethodHandle GETPAGESIZE = Native.plainCall("getpagesize", FunctionDescriptor.of(JAVA_INT));
    }

    static final int PAGE_SIZE = pageSize();

    private final Policy policy;
    private final boolean lowerdirPlus;
    private final boolean indexOff;
    private final boolean userxattr;
    private final MountOptions extra;
    private final boolean selinux;

    OverlayMounter(Policy policy, boolean lowerdirPlus, boolean indexOff, boolean userxattr, MountOptions extra, boolean selinux) {
        if (policy == Policy.FSOPEN && !lowerdirPlus) throw new IllegalArgumentException("the new mount API needs lowerdir+");
        this.policy = lowerdirPlus ? policy : Policy.MOUNT;
        this.lowerdirPlus = lowerdirPlus;
        this.indexOff = indexOff;
        this.userxattr = userxattr;
        this.extra = extra;
        this.selinux = selinux;
    }

    Policy policy() {
        return policy;
    }

    /** Whether stacks deeper than one page of mount(2) options can be mounted. */
    boolean deepStacks() {
        return policy != Policy.MOUNT;
    }

    /** For status: the call(s) in use. */
    String describe() {
        return switch (policy) {
            case AUTO -> "mount(2) up to one page of options, fsopen+fsconfig(lowerdir+) past it";
            case FSOPEN -> "fsopen+fsconfig(lowerdir+)";
            case MOUNT -> "mount(2)" + (lowerdirPlus ? "" : " (this kernel has no fsconfig lowerdir+)");
        };
    }

    MountOptions extra() {
        return extra;
    }

    /**
     * Mounts an overlay at {@code target}. {@code upper} null makes a read-only overlay of the lowers alone
     * (then there must be at least two). Returns the mount(2) options it mounted with, or null when it took the new
     * mount API: what a caller may keep and hand to {@link #mountClassic(String, String)} for the next mount of the
     * same stack, when there was no label, instead of building it again.
     */
    String mount(String target, List<String> lowers, String upper, String work, String mountLabel) {
        if (lowers.size() > KERNEL_MAX_LOWERS) {
            throw new StorageException("mount", target, lowers.size() + " lower layers; the kernel mounts at most "
                    + KERNEL_MAX_LOWERS + " in one overlay");
        }
        String label = selinux && mountLabel != null && !mountLabel.isEmpty() ? mountLabel : null;
        if (takesNewApi(lowers, upper, work)) {
            mountNew(target, lowers, upper, work, label);
            return null;
        }
        String data = classicData(lowers, upper, work, label);
        if (policy == Policy.AUTO && data.length() > PAGE_SIZE - 1) {
            mountNew(target, lowers, upper, work, label);
            return null;
        }
        mountClassic(target, data, lowers, upper, work, label); // throws past a page: the data it mounted fits
        return data;
    }

    /**
     * Whether {@link #mount} takes the new mount API for these lowers without building mount(2)'s options first
     * (where the lowers' length is too close to a page to tell, it builds them and may still take it).
     */
    boolean takesNewApi(List<String> lowers, String upper, String work) {
        return policy == Policy.FSOPEN || policy == Policy.AUTO && estimatedLength(lowers, upper, work) > PAGE_SIZE - 1;
    }

    /** Whether a mount with this label passes it to the kernel (SELinux): such a mount is not kept by a caller. */
    boolean usesLabel(String mountLabel) {
        return selinux && mountLabel != null && !mountLabel.isEmpty();
    }

    /** mount(2) with options {@link #mount} returned; false (nothing mounted) when it fails, for the caller to redo it in full. */
    boolean mountClassic(String target, String data) {
        try {
            Mounts.mount("overlay", target, "overlay", extra.msFlags(), data);
            return true;
        } catch (SyscallException e) {
            return false;
        }
    }

    private void mountNew(String target, List<String> lowers, String upper, String work, String label) {
        try (FsContext fc = FsContext.open("overlay")) {
            fc.set("source", "overlay");
            if (indexOff) fc.set("index", "off");
            if (userxattr) fc.flag("userxattr");
            for (MountOptions.Param p : extra.params()) {
                if (p.value() == null) fc.flag(p.key());
                else fc.set(p.key(), p.value());
            }
            fc.setEach("lowerdir+", lowers);
            if (upper != null) {
                fc.set("upperdir", upper);
                fc.set("workdir", work);
            }
            if (label != null) fc.set("context", label);
            fc.mountAt(Path.of(target), extra.attrFlags());
        }
    }

    private void mountClassic(String target, String data, List<String> lowers, String upper, String work, String label) {
        // at most 3 bytes a char: a short string needs no encoding to be known to fit
        int bytes = data.length() * 3 < PAGE_SIZE ? data.length() : data.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > PAGE_SIZE - 1) {
            throw new StorageException("mount", target, "the overlay options for " + lowers.size()
                    + " lower layers are " + bytes + " bytes, over mount(2)'s limit of one page (" + (PAGE_SIZE - 1)
                    + " bytes; past it the kernel cuts the options and mount(2) fails with a misleading ENOENT). "
                    + "At most " + maxLowersClassic(lowers.isEmpty() ? null : Path.of(lowers.getFirst()).getParent(), upper != null)
                    + " lowers fit with this home; the new mount API (fsconfig lowerdir+, Linux 6.8+) has no such limit"
                    + (lowerdirPlus ? " but overlay.mount_api=mount turned it off" : " but this kernel lacks it"));
        }
        try {
            Mounts.mount("overlay", target, "overlay", extra.msFlags(), data);
        } catch (SyscallException e) {
            throw new StorageException("mount", target, "overlay: " + e.getMessage() + explainWithNewApi(target, lowers, upper, work, label), e);
        }
    }

    /** mount(2) gives only an errno; where the new API exists, replay the options there to get the kernel's reason. */
    private String explainWithNewApi(String target, List<String> lowers, String upper, String work, String label) {
        if (!lowerdirPlus) return "";
        try (FsContext fc = FsContext.open("overlay")) {
            if (indexOff) fc.set("index", "off");
            if (userxattr) fc.flag("userxattr");
            for (MountOptions.Param p : extra.params()) {
                if (p.value() == null) fc.flag(p.key());
                else fc.set(p.key(), p.value());
            }
            for (String l : lowers) fc.set("lowerdir+", l);
            if (upper != null) {
                fc.set("upperdir", upper);
                fc.set("workdir", work);
            }
            if (label != null) fc.set("context", label);
            return "";
        } catch (SyscallException e) {
            return " (kernel: " + e.getMessage() + ")";
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** A lower bound of the mount(2) option string's length, without building it (a deep stack skips it). */
    private static int estimatedLength(List<String> lowers, String upper, String work) {
        int n = 0;
        for (String l : lowers) {
            n += l.length() + 1;
            if (n > PAGE_SIZE) return n;
        }
        return n + (upper == null ? 0 : upper.length() + work.length());
    }

    String classicData(List<String> lowers, String upper, String work, String label) {
        StringBuilder b = new StringBuilder(64 + lowers.size() * 64);
        if (indexOff) b.append("index=off,");
        if (userxattr) b.append("userxattr,");
        for (MountOptions.Param p : extra.params()) b.append(p).append(',');
        b.append("lowerdir=");
        for (int i = 0; i < lowers.size(); i++) {
            if (i > 0) b.append(':');
            b.append(escape(lowers.get(i)));
        }
        if (upper != null) b.append(",upperdir=").append(escape(upper)).append(",workdir=").append(escape(work));
        if (label != null) b.append(",context=\"").append(label).append('"');
        return b.toString();
    }

    /** The same mount as fstab-style options, in containerd's order (a mount spec for another process to make). */
    List<String> specOptions(List<Path> lowers, Path upper, Path work) {
        List<String> o = new java.util.ArrayList<>();
        if (indexOff) o.add("index=off");
        if (userxattr) o.add("userxattr");
        for (MountOptions.Param p : extra.params()) o.add(p.toString());
        o.addAll(extra.attrNames());
        if (upper != null) {
            o.add("workdir=" + escape(work.toString()));
            o.add("upperdir=" + escape(upper.toString()));
        }
        StringBuilder b = new StringBuilder("lowerdir=");
        for (int i = 0; i < lowers.size(); i++) b.append(i > 0 ? ":" : "").append(escape(lowers.get(i).toString()));
        o.add(b.toString());
        return o;
    }

    /** overlay splits lowerdir on ':' and the option string on ','; a backslash escapes both. */
    private static String escape(String path) {
        if (path.indexOf(':') < 0 && path.indexOf(',') < 0 && path.indexOf('\\') < 0) return path;
        StringBuilder b = new StringBuilder(path.length() + 8);
        for (char c : path.toCharArray()) {
            if (c == ':' || c == ',' || c == '\\') b.append('\\');
            b.append(c);
        }
        return b.toString();
    }

    /**
     * How many lowers of the form {@code <home>/l/<LID>} fit in one page with mount(2), for a read-write overlay
     * of a layer under {@code home} (a read-only one needs no upper/work but one more lower).
     */
    int maxLowersClassic(Path linkDir, boolean readWrite) {
        if (linkDir == null) return 0;
        int perLower = linkDir.toString().getBytes(StandardCharsets.UTF_8).length + 1 + Layout.LINK_ID_LENGTH + 1;
        String fixed = classicData(List.of(), readWrite ? linkDir.resolveSibling("x".repeat(64)).resolve("diff").toString() : null,
                readWrite ? linkDir.resolveSibling("x".repeat(64)).resolve("work").toString() : null, null);
        return Math.min(KERNEL_MAX_LOWERS, Math.max(0, (PAGE_SIZE - 1 - fixed.length() + 1) / perLower));
    }

    private static int pageSize() {
        try {
            return (int) H.GETPAGESIZE.invokeExact();
        } catch (Throwable t) {
            return 4096;
        }
    }
}
