package dev.strata.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs a driver operation in a second JVM on this class path and kills it with SIGKILL in the middle of it. */
final class ChildJvm {
    private static final int SIGKILL_EXIT = 128 + 9;

    private ChildJvm() {
    }

    /**
     * {@code java} and the options a child JVM starts with: C1 only, and this JVM's own {@code -XX} and {@code -Xlog}
     * options. In the kernel lab those carry the guest's AOT cache (recorded for this class path, with the flags that
     * keep the host's machine code out of it) and the serial collector; under TCG a child without the cache spends
     * seconds more loading and linking classes before its first driver call returns. Elsewhere they are usually none.
     * (No {@code -Xshare:auto}: it is the default, and the JVM refuses it beside {@code -XX:AOTCache}.)
     */
    static List<String> java() {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1"));
        for (String o : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (o.startsWith("-XX:") || o.startsWith("-Xlog:")) command.add(o);
        }
        return command;
    }

    static void killDuringApply(String driver, List<String> options, Path root, String id, String parent) throws Exception {
        killDuringApply(driver, options, root, id, parent, () -> { });
    }

    /**
     * Runs {@link ApplyUntilKilled}, running {@code whileApplying} in this JVM while the child is inside applyDiff,
     * then checking it still is.
     */
    static void killDuringApply(String driver, List<String> options, Path root, String id, String parent,
                                Runnable whileApplying) throws Exception {
        List<String> args = new ArrayList<>(List.of(driver, root.toString(), id, parent));
        args.addAll(options);
        killWhen(ApplyUntilKilled.class, args, ApplyUntilKilled.APPLYING, child -> {
            sleep(300); // let it write a few files
            whileApplying.run();
            sleep(300);
            return child.isAlive() ? null : "the child returned from applyDiff of an endless stream";
        });
    }

    /** What the test does while the child is where it waits to be killed: null, or what went wrong. */
    interface WhileReady {
        String run(Process child) throws Exception;
    }

    /**
     * Starts {@code main} with {@code args}, waits (90 s at most) for it to print the line {@code ready}, runs
     * {@code whileReady}, and kills it with SIGKILL.
     */
    static void killWhen(Class<?> main, List<String> args, String ready, WhileReady whileReady) throws Exception {
        List<String> command = java();
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(args);
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
                    fail("the child JVM never printed " + ready + " (" + (line == null ? "timed out" : "exited " + child.exitValue())
                            + "); its stderr:\n" + stderr);
                }
            } while (!line.equals(ready));
            String wrong = whileReady.run(child);
            if (wrong != null) fail(wrong + "; the child's stderr:\n" + stderr);
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child JVM did not die after SIGKILL");
        }
        assertEquals(SIGKILL_EXIT, child.exitValue(), "the child's exit status (SIGKILL expected); stderr:\n" + stderr);
    }

    /** Runs {@code main} with {@code args} to its end (120 s at most) and returns what it printed; fails unless it exits 0. */
    static String run(Class<?> main, List<String> args) throws Exception {
        List<String> command = java();
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(args);
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the child is gone
            }
        });
        try {
            if (!child.waitFor(120, TimeUnit.SECONDS)) fail("the child JVM did not finish in 120 s");
        } finally {
            child.destroyForcibly();
        }
        reader.join(10_000);
        assertEquals(0, child.exitValue(), () -> "the child JVM failed; it printed:\n" + out);
        return out.toString();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
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
