package dev.strata.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs {@link ApplyUntilKilled} in a second JVM on this class path and kills it with SIGKILL mid-apply. */
final class ChildJvm {
    private static final int SIGKILL_EXIT = 128 + 9;

    private ChildJvm() {
    }

    static void killDuringApply(String driver, List<String> options, Path root, String id, String parent) throws Exception {
        killDuringApply(driver, options, root, id, parent, () -> { });
    }

    /** As above, running {@code whileApplying} in this JVM while the child is inside applyDiff, then checking it still is. */
    static void killDuringApply(String driver, List<String> options, Path root, String id, String parent,
                                Runnable whileApplying) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), ApplyUntilKilled.class.getName(),
                driver, root.toString(), id, parent));
        command.addAll(options);
        Process child = new ProcessBuilder(command).start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuilder stderr = new StringBuilder();
        Thread.ofVirtual().start(() -> pump(child, lines));
        Thread.ofVirtual().start(() -> {
            try {
                stderr.append(new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the child is gone
            }
        });
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            String line;
            do {
                line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.equals("EOF")) {
                    child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    fail("the child JVM never reached applyDiff (" + (line == null ? "timed out" : "exited " + child.exitValue())
                            + "); its stderr:\n" + stderr);
                }
            } while (!line.equals(ApplyUntilKilled.APPLYING));
            Thread.sleep(300); // let it write a few files
            whileApplying.run();
            Thread.sleep(300);
            assertTrue(child.isAlive(), "the child returned from applyDiff of an endless stream; stderr:\n" + stderr);
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child JVM did not die after SIGKILL");
        }
        assertEquals(SIGKILL_EXIT, child.exitValue(), "the child's exit status (SIGKILL expected); stderr:\n" + stderr);
    }

    private static void pump(Process child, LinkedBlockingQueue<String> lines) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) lines.add(l);
        } catch (IOException ignored) {
            // killed
        }
        lines.add("EOF");
    }
}
