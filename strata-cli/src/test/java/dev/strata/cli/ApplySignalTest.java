package dev.strata.cli;

import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM (what Ctrl-C does too) to a {@code strata apply} that is reading its diff from a writer that stalls: the
 * command stops within seconds, says the layer is unchanged in one line, and the layer is as it was.
 */
class ApplySignalTest extends ScratchRootTest {
    @Test
    void aSignalWhileTheDiffIsReadLeavesTheLayerAsItWasAndSaysSo() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src/etc"));
        Files.writeString(src.resolve("hostname"), "before\n");
        Path before = tmp.resolve("before.tar");
        assertEquals(0, new ProcessBuilder("tar", "-C", tmp.resolve("src").toString(), "-cf", before.toString(), "etc")
                .start().waitFor());
        Files.write(tmp.resolve("src/big"), new byte[4 << 20]);
        Path next = tmp.resolve("next.tar");
        assertEquals(0, new ProcessBuilder("tar", "-C", tmp.resolve("src").toString(), "-cf", next.toString(), "big")
                .start().waitFor());
        for (String driver : List.of("vfs", "overlay")) {
            String id = "sig-" + driver;
            assertEquals(0, strata("-s", driver, "create", id).code());
            assertEquals(0, strata("-s", driver, "apply", id, before.toString()).code());
            String content = content(driver, id);

            Process apply = new ProcessBuilder(javaCommand("--root", root.toString(), "-s", driver, "apply", id))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(tmp.resolve("err").toFile()).start();
            byte[] tar = Files.readAllBytes(next);
            try (OutputStream in = apply.getOutputStream()) {
                in.write(Arrays.copyOf(tar, tar.length / 2)); // half the diff; the writer then stalls
                in.flush();
                Thread.sleep(3_000); // the child is up and inside the apply, waiting for the rest
                apply.toHandle().destroy(); // SIGTERM (Process.destroy would close our ends of its pipes too)
                assertTrue(apply.waitFor(30, TimeUnit.SECONDS), "strata apply did not stop after SIGTERM");
            }
            String err = Files.readString(tmp.resolve("err")).strip();
            assertEquals(143, apply.exitValue(), err);
            assertEquals("strata: apply " + id + ": interrupted; layer " + id + " unchanged", err);
            assertEquals(0, strata("-s", driver, "exists", id).code());
            assertEquals(content, content(driver, id));
            assertEquals(0, strata("-s", driver, "remove", id).code());
        }
    }

    /** The layer's paths, as its mount shows them. */
    private String content(String driver, String id) throws Exception {
        Result mount = strata("-s", driver, "mount", id);
        assertEquals(0, mount.code(), mount.err());
        Path dir = Path.of(mount.out().strip());
        String listing;
        try (Stream<Path> walk = Files.walk(dir)) {
            listing = String.join("\n", walk.map(p -> dir.relativize(p) + " " + p.toFile().length()).sorted().toList());
        }
        assertEquals(0, strata("-s", driver, "unmount", id).code());
        return listing;
    }

    private static List<String> javaCommand(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
