package dev.strata.api;

/**
 * One path that differs between a layer and its parent, as moby's archive.Change reports it.
 * Paths are absolute within the layer ({@code /etc/hosts}).
 */
public record Change(String path, Kind kind) implements Comparable<Change> {
    /** Wire values match moby's ChangeType: 0 modify, 1 add, 2 delete. */
    public enum Kind {
        MODIFY, ADD, DELETE;

        public int wireValue() {
            return ordinal();
        }

        public char letter() {
            return switch (this) {
                case MODIFY -> 'C';
                case ADD -> 'A';
                case DELETE -> 'D';
            };
        }
    }

    public Change {
        if (path == null || !path.startsWith("/")) throw new IllegalArgumentException("change path must be absolute: " + path);
        if (kind == null) throw new IllegalArgumentException("change kind is null");
    }

    @Override
    public int compareTo(Change o) {
        int c = path.compareTo(o.path);
        return c != 0 ? c : kind.compareTo(o.kind);
    }

    @Override
    public String toString() {
        return kind.letter() + " " + path;
    }
}
