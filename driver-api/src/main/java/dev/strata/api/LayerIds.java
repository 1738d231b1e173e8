package dev.strata.api;

/**
 * Layer ids become directory names, so each must be one safe path component. Docker's ids (64 hex digits, with
 * an {@code -init} suffix for init layers) and containerd's keys without slashes pass.
 */
public final class LayerIds {
    public static final int MAX_LENGTH = 128;

    private LayerIds() {
    }

    /** Returns the id, or throws naming what is wrong with it. */
    public static String check(String operation, String id) {
        if (id == null || id.isEmpty()) throw new InvalidLayerIdException(operation, id, "empty");
        if (id.length() > MAX_LENGTH) throw new InvalidLayerIdException(operation, id, "longer than " + MAX_LENGTH + " characters");
        if (id.equals(".") || id.equals("..")) throw new InvalidLayerIdException(operation, id, "not a name");
        if (id.indexOf('/') >= 0) throw new InvalidLayerIdException(operation, id, "contains '/'");
        if (id.indexOf('\0') >= 0) throw new InvalidLayerIdException(operation, id, "contains a NUL byte");
        if (!safe(id)) {
            throw new InvalidLayerIdException(operation, id, "use letters, digits, '_', '.' and '-', starting with a letter or digit");
        }
        return id;
    }

    /** {@code [A-Za-z0-9][A-Za-z0-9_.-]*}, by hand: this runs on every get and put. */
    private static boolean safe(String id) {
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
        }
        return true;
    }

    /** A parent id: null or empty means none. */
    public static String checkParent(String operation, String parent) {
        if (parent == null || parent.isEmpty()) return null;
        return check(operation, parent);
    }
}
