package dev.strata.api;

import java.util.Locale;

/** Human sizes as Docker's units.RAMInBytes reads them: 512, 10k, 20M, 10G, 1.5T (binary multiples). */
public final class Sizes {
    private Sizes() {
    }

    /** Parses a size, or throws IllegalArgumentException naming the text. */
    public static long parse(String text) {
        if (text == null) throw new IllegalArgumentException("size is missing");
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("ib")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("b")) s = s.substring(0, s.length() - 1);
        long mult = 1;
        if (!s.isEmpty()) {
            char u = s.charAt(s.length() - 1);
            int shift = switch (u) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                case 't' -> 40;
                case 'p' -> 50;
                default -> 0;
            };
            if (shift > 0) {
                mult = 1L << shift;
                s = s.substring(0, s.length() - 1);
            }
        }
        try {
            double v = Double.parseDouble(s);
            if (v < 0 || Double.isNaN(v) || s.contains("e") || s.startsWith("+")) throw new NumberFormatException();
            double bytes = v * mult;
            if (bytes > Long.MAX_VALUE) throw new NumberFormatException();
            return (long) bytes;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size \"" + text + "\" (expected a number with an optional unit k, M, G, T)");
        }
    }

    /** Formats like Docker's units.HumanSize (decimal, 4 significant digits): "10.74GB". */
    public static String human(long bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
        double v = bytes;
        int i = 0;
        while (v >= 1000 && i < units.length - 1) {
            v /= 1000;
            i++;
        }
        String n = String.format(Locale.ROOT, "%.4g", v);
        if (n.contains(".")) n = n.replaceAll("0+$", "").replaceAll("\\.$", "");
        return n + units[i];
    }
}
