package dev.strata.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The uid and gid maps of a user namespace a container runs in: Docker's {@code --userns-remap} (UIDMaps and GIDMaps
 * at the graphdriver's Init), containerd's {@code containerd.io/snapshot/uidmapping} and {@code gidmapping} labels,
 * a Kubernetes pod with {@code hostUsers: false}. A layer made with maps shows its files to the host with host ids
 * (the image's root-owned files as the mapped root, {@code 100000} for {@code 0:100000:65536}); ids the map does not
 * cover show as {@link #OVERFLOW_ID}, as the kernel shows them; and its diffs carry container ids, as the engines
 * expect. {@link #NONE} means ids as they are stored.
 *
 * <p>Both maps or neither; each must map the container's root (id 0), and its ranges may not overlap on either side.
 */
public record IdMaps(List<IdMapping> uids, List<IdMapping> gids) {
    /** What an id outside the map shows as: the kernel's overflow uid and gid ({@code /proc/sys/kernel/overflowuid}). */
    public static final int OVERFLOW_ID = 65534;
    public static final IdMaps NONE = new IdMaps(List.of(), List.of());

    public IdMaps {
        uids = List.copyOf(uids == null ? List.of() : uids);
        gids = List.copyOf(gids == null ? List.of() : gids);
        if (uids.isEmpty() != gids.isEmpty()) {
            throw new InvalidIdMapException(describe(uids, gids), "a uid map and a gid map go together: give both or neither");
        }
        check("uid", uids);
        check("gid", gids);
    }

    /** Parses containerd's label form, {@code 0:100000:65536[,65536:300000:10]...}, for uids and for gids. */
    public static IdMaps parse(String uidMap, String gidMap) {
        return new IdMaps(parseRanges(uidMap), parseRanges(gidMap));
    }

    /** One map in containerd's label form. Blank is none. */
    public static List<IdMapping> parseRanges(String spec) {
        List<IdMapping> out = new ArrayList<>();
        if (spec == null || spec.isBlank()) return out;
        for (String part : spec.split(",")) {
            String[] f = part.trim().split(":");
            if (f.length != 3) throw new InvalidIdMapException(spec, "each range is container_id:host_id:size, not \"" + part.trim() + "\"");
            try {
                out.add(new IdMapping(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])));
            } catch (NumberFormatException e) {
                throw new InvalidIdMapException(spec, "\"" + part.trim() + "\" is not three numbers");
            }
        }
        return out;
    }

    private static void check(String kind, List<IdMapping> ranges) {
        if (ranges.isEmpty()) return;
        if (ranges.size() > 340) throw new InvalidIdMapException(kind + " map", ranges.size() + " ranges; the kernel takes at most 340");
        overlap(kind, ranges, Comparator.comparingLong(IdMapping::containerId), true);
        overlap(kind, ranges, Comparator.comparingLong(IdMapping::hostId), false);
        if (ranges.stream().noneMatch(r -> r.coversContainer(0))) {
            throw new InvalidIdMapException(kind + " map " + join(ranges), "it does not map the container's root (id 0)");
        }
    }

    private static void overlap(String kind, List<IdMapping> ranges, Comparator<IdMapping> order, boolean container) {
        List<IdMapping> sorted = new ArrayList<>(ranges);
        sorted.sort(order);
        for (int i = 1; i < sorted.size(); i++) {
            IdMapping a = sorted.get(i - 1), b = sorted.get(i);
            long aEnd = (container ? a.containerId() : a.hostId()) + a.size();
            if ((container ? b.containerId() : b.hostId()) < aEnd) {
                throw new InvalidIdMapException(kind + " map " + join(ranges), "ranges " + a + " and " + b + " overlap on the "
                        + (container ? "container" : "host") + " side");
            }
        }
    }

    /** Whether these are no maps: ids as stored. */
    public boolean isNone() {
        return uids.isEmpty();
    }

    /** The host uid of container uid {@code id} ({@link #OVERFLOW_ID} outside the map); unchanged without maps. */
    public int hostUid(int id) {
        return isNone() ? id : toHost(uids, id);
    }

    public int hostGid(int id) {
        return isNone() ? id : toHost(gids, id);
    }

    /** The container uid of host uid {@code id} ({@link #OVERFLOW_ID} outside the map); unchanged without maps. */
    public int containerUid(int id) {
        return isNone() ? id : toContainer(uids, id);
    }

    public int containerGid(int id) {
        return isNone() ? id : toContainer(gids, id);
    }

    /** The host uid of the container's root. */
    public int rootUid() {
        return hostUid(0);
    }

    public int rootGid() {
        return hostGid(0);
    }

    private static int toHost(List<IdMapping> ranges, int id) {
        long u = Integer.toUnsignedLong(id);
        for (IdMapping r : ranges) if (r.coversContainer(u)) return (int) (r.hostId() + (u - r.containerId()));
        return OVERFLOW_ID;
    }

    private static int toContainer(List<IdMapping> ranges, int id) {
        long u = Integer.toUnsignedLong(id);
        for (IdMapping r : ranges) if (r.coversHost(u)) return (int) (r.containerId() + (u - r.hostId()));
        return OVERFLOW_ID;
    }

    /** containerd's label form of the uid map, {@code 0:100000:65536}. */
    public String uidSpec() {
        return join(uids);
    }

    public String gidSpec() {
        return join(gids);
    }

    /**
     * The uid map as a user namespace's {@code uid_map} takes it, for an idmapped mount of files stored with
     * container ids: one {@code container host size} line a range.
     */
    public String uidMapLines() {
        return lines(uids);
    }

    public String gidMapLines() {
        return lines(gids);
    }

    private static String lines(List<IdMapping> ranges) {
        StringBuilder b = new StringBuilder();
        for (IdMapping r : ranges) b.append(r.containerId()).append(' ').append(r.hostId()).append(' ').append(r.size()).append('\n');
        return b.toString();
    }

    private static String join(List<IdMapping> ranges) {
        StringBuilder b = new StringBuilder();
        for (IdMapping r : ranges) b.append(b.isEmpty() ? "" : ",").append(r);
        return b.toString();
    }

    private static String describe(List<IdMapping> uids, List<IdMapping> gids) {
        return "uids [" + join(uids) + "] gids [" + join(gids) + "]";
    }

    @Override
    public String toString() {
        return isNone() ? "no id maps" : "uids " + uidSpec() + " gids " + gidSpec();
    }
}
