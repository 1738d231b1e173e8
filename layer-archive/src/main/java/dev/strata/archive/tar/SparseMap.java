package dev.strata.archive.tar;

import java.util.ArrayList;
import java.util.List;

/** Sparse maps of tar entries: PAX 0.0/0.1 records turned into (offset, length) pairs, and their checks. */
final class SparseMap {
    private SparseMap() {
    }

    /** The data regions, after any map, must be in order, inside the file and add up to the stored data. */
    static void check(TarHeader h, long remaining) {
        long end = 0, total = 0;
        for (int i = 0; i < h.sparse.length; i += 2) {
            long off = h.sparse[i], len = h.sparse[i + 1];
            if (off < end || len < 0 || off > h.size || len > h.size - off) {
                throw new TarFormatException(h.name, "sparse map region " + off + "+" + len + " is out of order or beyond the size " + h.size);
            }
            end = off + len;
            total += len;
        }
        if (total != remaining) throw new TarFormatException(h.name, "sparse map holds " + total + " bytes but the entry stores " + remaining);
        if (!h.isRegular()) throw new TarFormatException(h.name, "sparse map on a non-regular entry");
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + 1 + b.length);
        r[a.length] = ',';
        System.arraycopy(b, 0, r, a.length + 1, b.length);
        return r;
    }

    static List<Long> decimals(String[] parts) {
        List<Long> out = new ArrayList<>(parts.length);
        for (String p : parts) out.add(Pax.parseDecimal("GNU.sparse.map", p));
        return out;
    }

    /** PAX 0.0: offsets and numbytes records were merged (comma-joined) in order; pair them up. */
    static List<Long> interleave(List<Long> map, String joined, boolean offsets) {
        List<Long> vals = decimals(joined.split(","));
        List<Long> out = map == null ? new ArrayList<>() : map;
        if (offsets) {
            List<Long> r = new ArrayList<>();
            for (int i = 0; i < vals.size(); i++) {
                r.add(vals.get(i));
                r.add(i * 2 + 1 < out.size() ? out.get(i * 2 + 1) : -1L);
            }
            return r;
        }
        for (int i = 0; i < vals.size(); i++) {
            while (out.size() < 2 * i + 2) out.add(-1L);
            out.set(2 * i + 1, vals.get(i));
        }
        return out;
    }

    static long[] toArray(List<Long> l) {
        long[] a = new long[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        return a;
    }
}
