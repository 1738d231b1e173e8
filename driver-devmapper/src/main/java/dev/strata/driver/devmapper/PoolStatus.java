package dev.strata.driver.devmapper;

/**
 * The thin-pool target's status line: {@code <transaction id> <used meta>/<total meta> <used data>/<total data>
 * <held root> rw|ro|out_of_data_space ...}. Metadata blocks are 4 KiB; data blocks are the pool's block size.
 */
record PoolStatus(long transactionId, long metadataUsed, long metadataTotal, long dataUsed, long dataTotal, String mode,
                  boolean needsCheck) {
    static final long METADATA_BLOCK = 4096;

    static PoolStatus parse(String pool, String line) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 3 || f[0].equals("Fail") || f[0].equals("Error")) {
            throw new IllegalStateException("thin pool " + pool + " reports \"" + line.trim() + "\" (failed: check its metadata with thin_check)");
        }
        try {
            String[] meta = f[1].split("/"), data = f[2].split("/");
            String mode = f.length > 4 ? f[4] : "rw";
            boolean needsCheck = false;
            for (String s : f) if (s.equals("needs_check")) needsCheck = true;
            return new PoolStatus(Long.parseLong(f[0]), Long.parseLong(meta[0]), Long.parseLong(meta[1]),
                    Long.parseLong(data[0]), Long.parseLong(data[1]), mode, needsCheck);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot parse the status of thin pool " + pool + ": \"" + line.trim() + "\"", e);
        }
    }

    boolean readOnly() {
        return !mode.equals("rw");
    }
}
