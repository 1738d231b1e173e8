package dev.strata.driver.aufs;

import dev.strata.api.StorageException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The data strings of an aufs mount, built as moby's {@code aufsMount} builds them. The kernel copies at most one
 * page of mount data, so the branches that do not fit in the first {@code mount(2)} are added by
 * {@code MS_REMOUNT} calls carrying {@code append:<dir>=ro+wh,} chunks.
 *
 * <p>moby leaves {@code 54} bytes (plus {@code ",dirperm1"} and the SELinux label) of each page for the options
 * after the branch list; the same room is kept here so a layer stack mounts the same way under both.
 */
public final class BranchOptions {
    /** Room moby keeps in each page for {@code ,dio,xino=/dev/shm/aufs.xino} and the label quoting. */
    static final int RESERVED = 54;
    static final String DIRPERM1 = ",dirperm1";
    static final String BASE_OPTIONS = "dio,xino=/dev/shm/aufs.xino";

    /**
     * What to pass to the kernel.
     *
     * @param mount    the data of the first {@code mount(2)}: the rw branch, as many ro branches as fit, options
     * @param remounts the data of each following {@code MS_REMOUNT}, in order
     */
    public record Plan(String mount, List<String> remounts) {
        public Plan {
            remounts = List.copyOf(remounts);
        }
    }

    private BranchOptions() {
    }

    /**
     * @param rw         the writable branch (the layer's own diff directory)
     * @param ro         the read-only branches, nearest parent first
     * @param mountLabel the SELinux mount label, or null/empty for none
     * @param dirperm1   whether the module takes {@code dirperm1}
     * @param pageSize   the kernel's page size
     */
    public static Plan plan(String rw, List<String> ro, String mountLabel, boolean dirperm1, int pageSize) {
        String label = mountLabel == null ? "" : mountLabel;
        int room = pageSize - bytes(label) - RESERVED - (dirperm1 ? DIRPERM1.length() : 0);

        StringBuilder first = new StringBuilder("br:").append(rw).append("=rw");
        if (bytes(first) > room) throw tooLong(rw, room);
        int index = 0;
        int used = bytes(first);
        for (; index < ro.size(); index++) {
            String branch = ":" + ro.get(index) + "=ro+wh";
            int n = bytes(branch);
            if (used + n > room) break;
            first.append(branch);
            used += n;
        }
        String options = BASE_OPTIONS + (dirperm1 ? DIRPERM1 : "");
        String mount = withLabel(first + "," + options, label);

        List<String> remounts = new ArrayList<>();
        while (index < ro.size()) {
            StringBuilder chunk = new StringBuilder();
            used = 0;
            for (; index < ro.size(); index++) {
                String branch = "append:" + ro.get(index) + "=ro+wh,";
                int n = bytes(branch);
                if (used + n > room) break;
                chunk.append(branch);
                used += n;
            }
            // moby would loop forever here; a branch that cannot fit in a page on its own is an error.
            if (chunk.isEmpty()) throw tooLong(ro.get(index), room);
            remounts.add(withLabel(chunk.toString(), label));
        }
        return new Plan(mount, remounts);
    }

    /** go-selinux's FormatMountLabel: {@code <src>,context="<label>"}. */
    static String withLabel(String src, String label) {
        if (label.isEmpty()) return src;
        String context = "context=\"" + label + "\"";
        return src.isEmpty() ? context : src + "," + context;
    }

    private static int bytes(CharSequence s) {
        return s.toString().getBytes(StandardCharsets.UTF_8).length;
    }

    private static StorageException tooLong(String branch, int room) {
        return new StorageException("mount", branch, "aufs branch path is too long: it does not fit in the "
                + room + " bytes of mount data left in one page");
    }
}
