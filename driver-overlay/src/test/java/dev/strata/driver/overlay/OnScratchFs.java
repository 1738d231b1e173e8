package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The set-up the overlay tests share: a {@link ScratchFs} of each test's own (skipped without root or overlay),
 * unmounted after it, with the driver's home on it; the drivers {@link #open}ed there, cleaned up after the test;
 * and chains of layers to stack.
 */
abstract class OnScratchFs {
    @TempDir
    Path tmp;
    ScratchFs fs;
    Path home;
    private final List<StorageDriver> opened = new ArrayList<>();

    @BeforeEach
    void mountScratchFs() throws Exception {
        fs = ScratchFs.mount(tmp);
        home = fs.root.resolve("overlay");
    }

    /**
     * The driver on {@link #home} with {@code options}, cleaned up after the test (a failed or skipped one too), before
     * the scratch filesystem goes.
     */
    StorageDriver open(String... options) {
        StorageDriver d = ScratchFs.open(home, options);
        opened.add(d);
        return d;
    }

    /** Cleans {@code d} up now, as a test does before it opens the home again; not again after the test. */
    void cleanupNow(StorageDriver d) {
        opened.remove(d);
        d.cleanup();
    }

    @AfterEach
    void cleanupDriversAndUnmount() {
        try {
            RuntimeException first = null;
            for (StorageDriver d : opened.reversed()) {
                try {
                    d.cleanup();
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                    else first.addSuppressed(e);
                }
            }
            opened.clear();
            if (first != null) throw first;
        } finally {
            if (fs != null) fs.close();
        }
    }

    /** L000, L001, ...: the layers of {@link #chain}. */
    static String id(int i) {
        return String.format("L%03d", i);
    }

    /** Builds L000 (base) .. L{depth-1}, each with one file of its own. */
    void chain(StorageDriver d, int depth) throws Exception {
        for (int i = 0; i < depth; i++) {
            d.create(id(i), i == 0 ? null : id(i - 1), CreateOptions.NONE);
            Files.writeString(home.resolve(id(i)).resolve("diff/f" + i), id(i));
        }
    }

    static Map<String, String> status(StorageDriver d) {
        return d.status().stream().collect(Collectors.toMap(StatusEntry::key, StatusEntry::value));
    }
}
