package dev.strata.archive.tar;

/** A tar stream that cannot be read: a bad header, a bad PAX record, data that ends early. Names the entry. */
public final class TarFormatException extends RuntimeException {
    private final String entry;

    public TarFormatException(String entry, String message) {
        super(message);
        this.entry = entry;
    }

    /** The entry's name (raw bytes as ISO-8859-1), as far as it could be read; may be empty. */
    public String entry() {
        return entry;
    }
}
