package dev.strata.driver.overlay;

import dev.strata.api.StorageException;
import dev.strata.nativeio.PosixFiles;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * moby's overlay2 on-disk layout, so that dockerd and Strata can read each other's layers:
 * <pre>
 * &lt;home&gt;/l/&lt;LID&gt;            symlink to ../&lt;id&gt;/diff (LID: 26 characters of base32, [A-Z2-7])
 * &lt;home&gt;/&lt;id&gt;/             0710
 *   diff/                   0755  the layer's content; the overlay upper dir
 *   link                    0644  the LID, no newline (a read-write layer's only once it is a parent, see below)
 *   lower                   0644  "l/&lt;parent LID&gt;:l/&lt;grandparent LID&gt;:..." (only with a parent)
 *   work/                   0700  overlay's work dir (only with a parent)
 *   merged/                 0700  the mount point, made by get and removed by put
 *   committed               0600  written when a child is made: the layer is then mounted read-only
 *   .child-lower            0644  written when a child is made: its children's lower file, which they hard-link
 * </pre>
 * A read-write layer (moby's container layer; every containerd snapshot) gets its LID and short link when it first
 * becomes a parent, not when it is made: most are removed without ever being one, and a link file and symlink are
 * two of the six inodes a layer costs to make and delete (on ext4 without a journal each new inode is slower the more
 * were deleted recently). moby reads a layer's {@code link} only to make a child of it, which it never does on a
 * container layer, and removes a layer without one. {@code .link-pending} holds the LID while it is being linked,
 * so that a cut-short linking is finished, or swept with the layer, and leaks no short link. For the same reason
 * a child's {@code lower} is a hard link to its parent's {@code .child-lower} (same content, no inode of its own);
 * moby ignores the extra file and reads the link as the file it is.
 * <p>
 * Modes are what moby asks for, under the process umask as with moby. Strata's own state lives in hidden entries
 * that moby never looks at: the kit's {@code .strata/}, {@code .new-<id>} for layers being made,
 * {@code .staging/removing/<id>} for layers being removed, and {@code .apply-<id>} for an apply in progress (its copy
 * of {@code diff}, and for an apply through a mount its work and mount dirs: the kit's
 * {@link dev.strata.kit.LayerDirectories#applyDir}).
 */
final class Layout {
    static final String LINK_DIR = "l", DIFF = "diff", WORK = "work", MERGED = "merged", LINK = "link", LOWER = "lower",
            COMMITTED = "committed", LINK_PENDING = ".link-pending", CHILD_LOWER = ".child-lower";
    static final String STAGING_DIR = ".staging", NEW_PREFIX = ".new-";
    static final int LINK_ID_LENGTH = 26;
    /** A lower file of the kernel's 500 lowers is 500 entries of {@code l/<LID>:}, 14.5 KB; room to spare. */
    static final int MAX_LOWER_FILE = 1 << 20;
    /** {@code l/<LID>}: an entry of a lower file as Strata and moby write them. */
    static final int LOWER_ENTRY_LENGTH = LINK_DIR.length() + 1 + LINK_ID_LENGTH;
    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path home;
    private final Path links;
    private final String homeString;
    /** Lower entry to the diff dir its short link names ({@link #directLower}). */
    private final Map<String, String> direct = new ConcurrentHashMap<>();
    private static final int DIRECT_MAX = 1 << 16; // ~10 MiB of strings at worst

    Layout(Path home) {
        this.home = home.toAbsolutePath().normalize();
        this.links = this.home.resolve(LINK_DIR);
        this.homeString = this.home.toString();
    }

    Path home() {
        return home;
    }

    Path links() {
        return links;
    }

    /**
     * Where a layer is made before it is renamed into place: a hidden entry of home itself, as containerd's
     * overlayfs makes {@code new-*} beside its snapshots. The rename that publishes the layer then changes one
     * directory, not two: a directory block and inode fewer for the next sync (an overlay unmount syncs the
     * filesystem) to write.
     */
    Path newDir(String id) {
        return home.resolve(NEW_PREFIX + id);
    }

    /** Where {@link #newDir} was before: what a create cut short by an older Strata may have left. */
    Path oldNewDir(String id) {
        return home.resolve(STAGING_DIR).resolve("new").resolve(id);
    }

    /** Where a layer is renamed to be deleted, so that nothing finds half of it. */
    Path removingDir(String id) {
        return home.resolve(STAGING_DIR).resolve("removing").resolve(id);
    }

    Path dir(String id) {
        return home.resolve(id);
    }

    Path diff(String id) {
        return home.resolve(id).resolve(DIFF);
    }

    Path work(String id) {
        return home.resolve(id).resolve(WORK);
    }

    Path merged(String id) {
        return home.resolve(id).resolve(MERGED);
    }

    /** {@code <home>/<id>/<name>} as a string, for the calls of get and put (no Path to build and print each time). */
    String entry(String id, String name) {
        return homeString + "/" + id + "/" + name;
    }

    /** A fresh short link id, as moby's overlayutils.GenerateID(26) makes them: base32 of random bytes. */
    static String newLinkId() {
        byte[] r = new byte[LINK_ID_LENGTH]; // one draw: each of SecureRandom's costs a digest
        RANDOM.nextBytes(r);
        char[] c = new char[LINK_ID_LENGTH];
        for (int i = 0; i < c.length; i++) c[i] = BASE32[r[i] & 31];
        return new String(c);
    }

    /** The LID in a layer directory, wherever it is (in place, staging or being removed); null when it has none. */
    static String linkIdIn(Path layerDir) {
        return readLid(layerDir.resolve(LINK));
    }

    /** The LID in a {@code link} or {@code .link-pending} file, or null when there is none. */
    static String readLid(Path file) {
        byte[] b;
        try {
            b = PosixFiles.readSmall(file, 64);
        } catch (SyscallException e) {
            throw new StorageException("read link", file.toString(), e.getMessage(), e);
        }
        if (b == null) return null;
        String lid = new String(b, StandardCharsets.US_ASCII).strip();
        if (lid.isEmpty()) throw new StorageException("read link", file.toString(), "empty link file");
        return lid;
    }

    /**
     * The entries of the layer's {@code lower} file ({@code l/<LID>}, uppermost first); empty for a base layer.
     */
    List<String> lowerEntries(String id) {
        return lowerEntries(lowerFile(id));
    }

    /** The bytes of the layer's {@code lower} file, null for a base layer (none): read on every mount. */
    byte[] lowerFile(String id) {
        String lower = entry(id, LOWER);
        try {
            return PosixFiles.readSmall(lower, MAX_LOWER_FILE); // one open, read and close
        } catch (SyscallException e) {
            throw new StorageException("read lower", lower, e.getMessage(), e);
        }
    }

    /** The entries of a {@code lower} file's bytes ({@link #lowerFile}); empty for none. */
    static List<String> lowerEntries(byte[] lowerFile) {
        if (lowerFile == null) return List.of();
        String s = new String(lowerFile, StandardCharsets.US_ASCII).strip();
        return s.isEmpty() ? List.of() : Arrays.asList(s.split(":"));
    }

    /**
     * The number of entries of a lower file's bytes if they are exactly {@code l/<LID>} entries joined by {@code :}
     * (no newline, LIDs of 26 base32 characters: what Strata and moby write), else -1.
     */
    static int lowerEntryCount(byte[] b) {
        int step = LOWER_ENTRY_LENGTH + 1;
        if (b.length == 0 || (b.length + 1) % step != 0) return -1;
        for (int at = 0; at < b.length; at += step) {
            if (b[at] != 'l' || b[at + 1] != '/' || (at + LOWER_ENTRY_LENGTH < b.length && b[at + LOWER_ENTRY_LENGTH] != ':')) return -1;
            for (int i = at + 2; i < at + LOWER_ENTRY_LENGTH; i++) {
                if (!((b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= '2' && b[i] <= '7'))) return -1;
            }
        }
        return (b.length + 1) / step;
    }

    /** The lower entries a child of {@code parent} gets: the parent's link first, then the parent's lowers. */
    List<String> lowerEntriesForChild(String parent, String parentLid) {
        List<String> parentLowers = lowerEntries(parent);
        List<String> out = new ArrayList<>(parentLowers.size() + 1);
        out.add(LINK_DIR + "/" + parentLid);
        out.addAll(parentLowers);
        return out;
    }

    /** A lower entry as an absolute path through the short link: {@code <home>/l/<LID>}. */
    Path linkPath(String lowerEntry) {
        return home.resolve(lowerEntry);
    }

    /** {@link #linkPath} as the string a mount takes, without a Path per lower (a deep stack mounts hundreds). */
    String linkString(String lowerEntry) {
        return homeString + "/" + lowerEntry;
    }

    /** A lower entry resolved to the diff directory it names, {@code <home>/<id>/diff}. */
    Path resolveLower(String lowerEntry) {
        Path link = home.resolve(lowerEntry);
        try {
            return link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
        } catch (IOException e) {
            throw new StorageException("resolve lower", link.toString(), "broken short link: " + e, e);
        }
    }

    /**
     * A lower entry as the diff dir its short link names, {@code <home>/<id>/diff}, for a mount whose options have
     * no page limit (the new mount API): the kernel's lookup of each lower then follows no symlink and walks two
     * components fewer (at 500 lowers the lookups were a fifth of a get+put's CPU). A link's target is read once per
     * LID: a LID is random and names one layer for as long as that layer exists (a layer made again gets another),
     * and no lower file names the LID of a layer that is gone, so what is kept is never wrong, at worst unused.
     */
    String directLower(String lowerEntry) {
        String dir = direct.get(lowerEntry);
        if (dir != null) return dir;
        Path link = home.resolve(lowerEntry);
        try {
            dir = link.getParent().resolve(Files.readSymbolicLink(link)).normalize().toString();
        } catch (IOException | UnsupportedOperationException e) {
            return linkString(lowerEntry); // not a link (or gone): the kernel looks it up, and names what is wrong, as before
        }
        if (direct.size() >= DIRECT_MAX) direct.clear();
        direct.put(lowerEntry, dir);
        return dir;
    }

    /** The id whose diff dir a lower entry points at. */
    String idOfLower(String lowerEntry) {
        Path diff = resolveLower(lowerEntry);
        return diff.getParent().getFileName().toString();
    }

    boolean isCommitted(String id) {
        return PosixFiles.lexists(entry(id, COMMITTED));
    }

    /** Every directory under home that looks like a layer (has a diff dir), complete or not. */
    List<String> layerDirs() {
        List<String> out = new ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(home)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || name.equals(LINK_DIR)) continue;
                if (Files.isDirectory(p.resolve(DIFF), java.nio.file.LinkOption.NOFOLLOW_LINKS)) out.add(name);
            }
        } catch (IOException e) {
            throw new StorageException("layers", home.toString(), e.toString(), e);
        }
        return out;
    }
}
