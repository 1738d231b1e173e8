package dev.strata.bench;

import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.StorageDriver;

import dev.strata.archive.tar.TarHeader;
import dev.strata.archive.tar.TarReader;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** peerbench's apply, diff (with or without an empty parent) and changes, on its generated tars. */
final class BulkOps {
    private final Map<String, String> flags;
    private final StorageDriver d;
    private final Map<String, Object> r;

    BulkOps(Map<String, String> flags, StorageDriver d, Map<String, Object> r) {
        this.flags = flags;
        this.d = d;
        this.r = r;
    }

    /** What peerbench's scanTar reports of a tar. */
    record TarSummary(long bytes, List<String> files, long payload, long maxSize, int dirs) {
    }

    private TarSummary scan() throws IOException {
        Path tar = Path.of(flags.get("tar"));
        List<String> files = new ArrayList<>();
        long payload = 0, max = 0;
        int dirs = 0;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(tar), 1 << 20)) {
            TarReader in = new TarReader(raw);
            TarHeader e;
            while ((e = in.next()) != null) {
                if (e.isRegular()) {
                    files.add(TarHeader.utf8(e.name));
                    payload += e.size;
                    max = Math.max(max, e.size);
                } else if (e.isDirectory()) {
                    dirs++;
                }
            }
        }
        // warm: every rep starts with the tar in page cache
        try (InputStream in = Files.newInputStream(tar)) {
            in.transferTo(OutputSink.INSTANCE);
        }
        TarSummary ts = new TarSummary(Files.size(tar), files, payload, max, dirs);
        r.put("tar_bytes", ts.bytes);
        r.put("payload_bytes", ts.payload);
        r.put("files", ts.files.size());
        r.put("dirs", ts.dirs);
        return ts;
    }

    /** Untimed reps first (JIT warm-up); 0 unless -warmup says otherwise. */
    private int warmup() {
        int w = Integer.parseInt(flags.getOrDefault("warmup", "0"));
        r.put("warmup", w);
        return w;
    }

    void apply() throws IOException {
        TarSummary ts = scan();
        int reps = PeerBench.reps(flags, "apply");
        for (int i = warmup() - 1; i >= 0; i--) {
            d.create("wu-" + i, null, CreateOptions.NONE);
            try (InputStream in = PeerBench.stream(flags.get("tar"))) {
                d.applyDiff("wu-" + i, null, in);
            }
            d.remove("wu-" + i);
        }
        List<Long> td = new ArrayList<>();
        long size = 0;
        for (int i = 0; i < reps; i++) {
            String id = "ap-" + i;
            d.create(id, null, CreateOptions.NONE);
            try (InputStream in = PeerBench.stream(flags.get("tar"))) {
                PeerBench.sync();
                long t0 = System.nanoTime();
                size = d.applyDiff(id, null, in);
                td.add(System.nanoTime() - t0);
            }
            if (i == 0) verify(id, ts);
            d.remove(id);
        }
        Map<String, Object> s = PeerStats.of(td);
        PeerStats.put(r, s);
        PeerStats.putRate(r, ts.bytes, ts.files.size(), s);
        r.put("layer_size", size);
    }

    private void verify(String id, TarSummary ts) throws IOException {
        Path p = d.get(id, "");
        try {
            for (int i : new int[]{0, ts.files.size() / 2, ts.files.size() - 1}) {
                long s = Files.size(p.resolve(ts.files.get(i)));
                if (s != ts.maxSize) throw new IOException(ts.files.get(i) + ": size " + s + ", want " + ts.maxSize);
            }
        } finally {
            d.put(id);
        }
    }

    void diff() throws IOException {
        TarSummary ts = scan();
        int reps = PeerBench.reps(flags, "diff");
        String parent = null;
        if (flags.containsKey("diff-parent")) {
            parent = "base";
            d.create(parent, null, CreateOptions.NONE);
        }
        r.put("parent", parent == null ? "none" : "empty base layer");
        d.create("df", parent, CreateOptions.NONE);
        try (InputStream in = PeerBench.stream(flags.get("tar"))) {
            d.applyDiff("df", parent, in);
        }
        List<Long> td = new ArrayList<>();
        long n = 0;
        byte[] buf = new byte[32 * 1024];
        for (int i = warmup() - 1; i >= 0; i--) {
            try (InputStream in = d.diff("df", parent)) {
                while (in.read(buf) >= 0) {
                    // discard
                }
            }
        }
        for (int i = 0; i < reps; i++) {
            PeerBench.sync();
            long t0 = System.nanoTime();
            n = 0;
            try (InputStream in = d.diff("df", parent)) {
                int k;
                while ((k = in.read(buf)) >= 0) n += k;
            }
            td.add(System.nanoTime() - t0);
        }
        Map<String, Object> s = PeerStats.of(td);
        PeerStats.put(r, s);
        r.put("diff_bytes", n);
        PeerStats.putRate(r, n, ts.files.size(), s);
    }

    void changes() throws IOException {
        TarSummary ts = scan();
        int reps = PeerBench.reps(flags, "changes");
        int modify = Integer.parseInt(flags.getOrDefault("modify", "1000"));
        r.put("modify", modify);
        d.create("P", null, CreateOptions.NONE);
        try (InputStream in = PeerBench.stream(flags.get("tar"))) {
            d.applyDiff("P", null, in);
        }
        d.create("C", "P", CreateOptions.NONE);
        Path mp = d.get("C", "");
        int done = 0;
        try {
            int stride = Math.max(1, ts.files.size() / Math.max(1, modify));
            byte[] buf = new byte[(int) ts.maxSize];
            for (int i = 0; i < ts.files.size() && done < modify; i += stride) {
                new PeerBench.XorShift(0xC0FFEE + i).fill(buf);
                Files.write(mp.resolve(ts.files.get(i)), buf);
                done++;
            }
        } finally {
            d.put("C");
        }
        r.put("modified_files", done);
        List<Long> td = new ArrayList<>();
        List<Change> cc = List.of();
        for (int i = 0; i < reps; i++) {
            PeerBench.sync();
            long t0 = System.nanoTime();
            cc = d.changes("C", "P");
            td.add(System.nanoTime() - t0);
        }
        Map<String, Object> s = PeerStats.of(td);
        PeerStats.put(r, s);
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("Total", cc.size());
        counts.put("Modify", cc.stream().filter(c -> c.kind() == Change.Kind.MODIFY).count());
        counts.put("Add", cc.stream().filter(c -> c.kind() == Change.Kind.ADD).count());
        counts.put("Delete", cc.stream().filter(c -> c.kind() == Change.Kind.DELETE).count());
        r.put("changes", counts);
        double med = ((Number) s.getOrDefault("median_us", 0.0)).doubleValue();
        if (!cc.isEmpty() && med > 0) r.put("changes_s", PeerStats.round(cc.size() / (med / 1e6), 2));
    }

    /**
     * The moby peer's create-child: the tar applied to P (untimed); {@code -warmup} untimed rounds of create + remove
     * of a child of an empty layer W; then per rep {@code create(child, P)} and its remove, each timed after a sync(2)
     * (the line's median is the create's; phases has both).
     */
    void createChild() throws IOException {
        TarSummary ts = scan();
        int reps = PeerBench.reps(flags, "create-child");
        d.create("P", null, CreateOptions.NONE);
        d.create("W", null, CreateOptions.NONE);
        try (InputStream in = PeerBench.stream(flags.get("tar"))) {
            d.applyDiff("P", null, in);
        }
        for (int i = warmup() - 1; i >= 0; i--) {
            d.create("wu-" + i, "W", CreateOptions.NONE);
            d.remove("wu-" + i);
        }
        List<Long> td = new ArrayList<>(), tr = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            String id = "cc-" + i;
            PeerBench.sync();
            long t0 = System.nanoTime();
            d.create(id, "P", CreateOptions.NONE);
            td.add(System.nanoTime() - t0);
            if (i == 0) verify(id, ts);
            PeerBench.sync();
            long t1 = System.nanoTime();
            d.remove(id);
            tr.add(System.nanoTime() - t1);
        }
        Map<String, Object> s = PeerStats.of(td);
        PeerStats.put(r, s);
        PeerStats.putRate(r, ts.payload, ts.files.size(), s);
        Map<String, Object> phases = new LinkedHashMap<>();
        phases.put("create", s);
        phases.put("remove", PeerStats.of(tr));
        r.put("phases", phases);
    }

    /** Discards bytes. */
    private static final class OutputSink extends java.io.OutputStream {
        static final OutputSink INSTANCE = new OutputSink();

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b, int off, int len) {
        }
    }
}
