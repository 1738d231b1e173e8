package dev.strata.archive.tar;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * PAX extended-header records ({@code "LEN KEY=VALUE\n"}), byte-exact. Commons Compress decodes and encodes the
 * values as UTF-8 strings, which corrupts binary xattr values such as {@code security.capability}; here keys are
 * ISO-8859-1 strings and values stay {@code byte[]}.
 */
public final class Pax {
    public static final String XATTR = "SCHILY.xattr.";
    /** Upper bound of one extended header we accept (GNU tar: none; libarchive: 1 MiB per record). */
    public static final int MAX_HEADER = 8 << 20;

    private Pax() {
    }

    /** Appends one record; the key is raw (ISO-8859-1), the value raw bytes. */
    public static void record(ByteArrayOutputStream out, String key, byte[] value) {
        int body = 1 + key.length() + 1 + value.length + 1; // ' ' key '=' value '\n'
        int digits = Long.toString(body).length();
        if (Long.toString(body + digits).length() > digits) digits++;
        out.writeBytes(Integer.toString(body + digits).getBytes(StandardCharsets.ISO_8859_1));
        out.write(' ');
        out.writeBytes(key.getBytes(StandardCharsets.ISO_8859_1));
        out.write('=');
        out.writeBytes(value);
        out.write('\n');
    }

    public static void record(ByteArrayOutputStream out, String key, String rawValue) {
        record(out, key, rawValue.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * Parses records, handing each key (ISO-8859-1) and value (raw bytes) to {@code sink} in order.
     *
     * @throws IllegalArgumentException when a record is malformed
     */
    public static void parse(byte[] data, int length, BiConsumer<String, byte[]> sink) {
        int p = 0;
        while (p < length) {
            if (data[p] == 0) break; // padding some writers leave
            int sp = p;
            long len = 0;
            while (sp < length && data[sp] != ' ') {
                int c = data[sp];
                if (c < '0' || c > '9' || len > MAX_HEADER) throw new IllegalArgumentException("bad PAX record length");
                len = len * 10 + (c - '0');
                sp++;
            }
            if (sp == p || sp >= length) throw new IllegalArgumentException("bad PAX record length");
            long end = p + len;
            if (len < 5 || end > length || data[(int) end - 1] != '\n') throw new IllegalArgumentException("PAX record overruns its header");
            int eq = sp + 1;
            while (eq < end && data[eq] != '=') eq++;
            if (eq >= end - 1) throw new IllegalArgumentException("PAX record without '='");
            if (eq == sp + 1) throw new IllegalArgumentException("PAX record with an empty key");
            String key = new String(data, sp + 1, eq - sp - 1, StandardCharsets.ISO_8859_1);
            byte[] value = java.util.Arrays.copyOfRange(data, eq + 1, (int) end - 1);
            sink.accept(key, value);
            p = (int) end;
        }
    }

    /** A PAX time value ("seconds[.fraction]", may be negative) in nanoseconds. */
    public static long parseTime(String v) {
        boolean neg = v.startsWith("-");
        String s = neg ? v.substring(1) : v;
        int dot = s.indexOf('.');
        String sec = dot < 0 ? s : s.substring(0, dot);
        String frac = dot < 0 ? "" : s.substring(dot + 1);
        if (sec.isEmpty() || !sec.chars().allMatch(Character::isDigit) || !frac.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("bad PAX time " + v);
        }
        long ns = Long.parseLong(sec) * 1_000_000_000L;
        String f = (frac + "000000000").substring(0, 9);
        ns += Long.parseLong(f);
        return neg ? -ns : ns;
    }

    /** Nanoseconds as a PAX time: whole seconds, or seconds and 9 fraction digits. */
    public static String formatTime(long nanos) {
        long sec = Math.floorDiv(nanos, 1_000_000_000L);
        long frac = Math.floorMod(nanos, 1_000_000_000L);
        if (frac == 0) return Long.toString(sec);
        if (sec < 0) {
            // PAX times before the epoch are written as a negative decimal: -(|t|)
            long abs = -nanos;
            return "-" + (abs / 1_000_000_000L) + "." + String.format("%09d", abs % 1_000_000_000L);
        }
        return sec + "." + String.format("%09d", frac);
    }

    public static long parseDecimal(String key, String v) {
        if (v.isEmpty() || v.length() > 19 || !v.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("bad PAX " + key + " value \"" + v + "\"");
        }
        return Long.parseLong(v);
    }
}
