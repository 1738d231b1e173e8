package dev.strata.snapshotter;

/** containerd's snapshot kinds. Only Active and View are created; Commit turns an Active one into Committed. */
public enum Kind {
    VIEW, ACTIVE, COMMITTED;

    /** The word containerd's filters use ({@code kind==active}). */
    String filterName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
