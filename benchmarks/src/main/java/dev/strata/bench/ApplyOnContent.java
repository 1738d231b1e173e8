package dev.strata.bench;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;
import dev.strata.nativeio.Trees;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an apply costs on a layer that already has content (where an all-or-nothing apply must stage a copy of it)
 * against one on a new, empty layer: per rep, a new base layer gets TAR applied (timed: "fresh"), then a one-file
 * tar is applied onto it (timed: "onto-content"). One JSON line, PeerBench's shape, for scripts/bench-ab.
 *
 * <pre>scripts/bench ApplyOnContent DRIVER ROOT TAR [REPS]   (ROOT must not exist yet)</pre>
 */
public final class ApplyOnContent {
    public static void main(String[] args) throws Exception {
        String driver = args[0];
        Path root = Path.of(args[1]), tar = Path.of(args[2]);
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        DriverRegistry registry = DriverRegistry.load();
        StorageDriver d = registry.open(registry.require(driver), root, List.of());
        List<Long> fresh = new ArrayList<>(), onto = new ArrayList<>();
        // the kit leaves its locks in the home and its run directory on a tmpfs: both go, on a signal too
        try (Teardown home = Teardown.of(root.toString(), () -> {
            d.cleanup();
            Trees.delete(root.resolve(driver));
        })) {
            for (int i = -1; i < reps; i++) { // the first round warms the JIT and the page cache, untimed
                String id = "aoc-" + (i + 1);
                d.create(id, null, CreateOptions.NONE);
                long t0 = System.nanoTime();
                try (InputStream in = PeerBench.stream(tar.toString())) {
                    d.applyDiff(id, null, in);
                }
                long t1 = System.nanoTime();
                PeerBench.sync();
                long t2 = System.nanoTime();
                d.applyDiff(id, null, PeerBench.tinyTar("one-more.txt", 1024, i));
                long t3 = System.nanoTime();
                if (i >= 0) {
                    fresh.add(t1 - t0);
                    onto.add(t3 - t2);
                }
                d.remove(id);
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", "strata-" + driver);
        r.put("op", "apply-on-content");
        r.put("tar", tar.getFileName().toString());
        Map<String, Object> phases = new LinkedHashMap<>();
        phases.put("fresh", PeerStats.of(fresh));
        phases.put("onto-content", PeerStats.of(onto));
        r.put("phases", phases);
        System.out.println(Json.write(r));
    }
}
