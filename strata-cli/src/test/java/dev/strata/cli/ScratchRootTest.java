package dev.strata.cli;

import dev.strata.nativeio.Kernel;
import dev.strata.nativeio.MountInfo;
import dev.strata.nativeio.Mounts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CLI run in-process against a storage root on a scratch tmpfs, which must be gone after each test. */
abstract class ScratchRootTest {
    @TempDir
    Path tmp;
    Path root;

    /** One run: exit code, stdout, stderr. */
    record Result(int code, String out, String err) {
        /** One line, no Java class name, no stack. */
        void assertOneCleanLine() {
            assertEquals(1, err.strip().lines().count(), err);
            assertFalse(err.matches("(?s).*\\b(java|javax|com|dev)\\.[a-z]+\\.[A-Za-z.]*(Exception|Error).*"), err);
            assertFalse(err.contains("Exception"), err);
        }
    }

    @BeforeEach
    void mountScratchRoot() throws Exception {
        assumeTrue(Kernel.isRoot(), "needs root to mount a scratch tmpfs");
        root = Files.createDirectory(tmp.resolve("root"));
        Mounts.mount("strata-test", root, "tmpfs", 0, "size=64m");
    }

    @AfterEach
    void unmountScratchRoot() {
        if (root != null) Mounts.unmountAllUnder(tmp);
        assertTrue(MountInfo.under(tmp).isEmpty());
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** {@code strata --root ROOT ARGS...} */
    Result strata(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--root";
        all[1] = root.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return run(all);
    }
}
