package dev.strata.driver.devmapper;

/** One line of a dm table (or of its status): start and length in 512-byte sectors, the target type, its text. */
record DmTarget(long start, long length, String type, String params) {
    @Override
    public String toString() {
        return start + " " + length + " " + type + " " + params;
    }
}
