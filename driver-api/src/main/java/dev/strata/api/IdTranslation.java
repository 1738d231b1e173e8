package dev.strata.api;

import java.util.ArrayList;
import java.util.List;

/**
 * How ids stored under one set of maps read under another: a file written by a container under {@code from}
 * (owner {@code from.hostUid(c)} on disk) shown to a container under {@code to} (as {@code to.hostUid(c)}). A
 * driver uses it to chown a copy, to translate tar headers, and to idmap a mount: {@link #uidMapLines()} is the
 * {@code uid_map} of a user namespace that makes an idmapped mount do the same. An id {@code from} does not cover,
 * or whose container id {@code to} does not cover, reads as {@link IdMaps#OVERFLOW_ID}, as the kernel shows it.
 */
public record IdTranslation(IdMaps from, IdMaps to) {
    public static final IdTranslation NONE = new IdTranslation(IdMaps.NONE, IdMaps.NONE);

    public IdTranslation {
        if (from == null) from = IdMaps.NONE;
        if (to == null) to = IdMaps.NONE;
    }

    /** Stored container ids shown under {@code maps}: what an idmapped lower of an image layer does. */
    public static IdTranslation toHost(IdMaps maps) {
        return new IdTranslation(IdMaps.NONE, maps);
    }

    /** Host ids stored under {@code maps} read as container ids: what a diff of a mapped layer does. */
    public static IdTranslation toContainer(IdMaps maps) {
        return new IdTranslation(maps, IdMaps.NONE);
    }

    public boolean isIdentity() {
        return from.equals(to);
    }

    public int uid(int id) {
        return isIdentity() ? id : translate(from.uids(), to.uids(), id);
    }

    public int gid(int id) {
        return isIdentity() ? id : translate(from.gids(), to.gids(), id);
    }

    private static int translate(List<IdMapping> from, List<IdMapping> to, int id) {
        long u = Integer.toUnsignedLong(id);
        long c = u;
        if (!from.isEmpty()) {
            c = -1;
            for (IdMapping r : from) if (r.coversHost(u)) c = r.containerId() + (u - r.hostId());
            if (c < 0) return IdMaps.OVERFLOW_ID;
        }
        if (to.isEmpty()) return (int) c;
        for (IdMapping r : to) if (r.coversContainer(c)) return (int) (r.hostId() + (c - r.containerId()));
        return IdMaps.OVERFLOW_ID;
    }

    /** The {@code uid_map} lines ({@code stored shown count}) of a user namespace that idmaps a mount this way. */
    public String uidMapLines() {
        return lines(from.uids(), to.uids());
    }

    public String gidMapLines() {
        return lines(from.gids(), to.gids());
    }

    private static String lines(List<IdMapping> from, List<IdMapping> to) {
        List<long[]> out = new ArrayList<>();
        List<IdMapping> f = from.isEmpty() ? List.of(new IdMapping(0, 0, IdMapping.ID_LIMIT - 1)) : from;
        List<IdMapping> t = to.isEmpty() ? List.of(new IdMapping(0, 0, IdMapping.ID_LIMIT - 1)) : to;
        for (IdMapping a : f) {
            for (IdMapping b : t) {
                long lo = Math.max(a.containerId(), b.containerId());
                long hi = Math.min(a.containerId() + a.size(), b.containerId() + b.size());
                if (lo < hi) out.add(new long[]{a.hostId() + (lo - a.containerId()), b.hostId() + (lo - b.containerId()), hi - lo});
            }
        }
        out.sort((x, y) -> Long.compare(x[0], y[0]));
        StringBuilder s = new StringBuilder();
        for (long[] l : out) s.append(l[0]).append(' ').append(l[1]).append(' ').append(l[2]).append('\n');
        return s.toString();
    }

    @Override
    public String toString() {
        return isIdentity() ? "ids as stored" : "ids stored under " + from + " shown under " + to;
    }
}
