package dev.strata.driver.overlay;

import dev.strata.api.CreateOptions;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The set-up the overlay tests share: a {@link ScratchFs} of each test's own (skipped without root or overlay),
 * unmounted after it, with the driver's home on it; and chains of layers to stack.
 */
abstract class OnScratchFs {
    @TempDir
    Path tmp;
    ScratchFs fs;
    Path home;

    @BeforeEach
    void mountScratchFs() throws Exception {
        fs = ScratchFs.mount(tmp);
        home = fs.root.resolve("overlay");
    }

    @AfterEach
    void unmountScratchFs() {
        if (fs != null) fs.close();
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
