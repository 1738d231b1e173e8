package dev.strata.api;

/** A driver's answer to "does this kernel and this backing filesystem support you?". */
public record Support(boolean supported, String reason) {
    public static Support yes(String how) {
        return new Support(true, how);
    }

    public static Support no(String why) {
        return new Support(false, why);
    }
}
