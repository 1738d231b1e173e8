package dev.strata.bench;

import dev.strata.kit.RunDirectory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a benchmark made outside its process and must undo (a scratch filesystem, a loop file, a fresh filesystem's
 * mount), undone exactly once: by {@link #close()} on the way out, whether the benchmark ended or failed, or, when a
 * signal stops the JVM (SIGINT, SIGTERM: no {@code finally} runs then), by a shutdown hook. The hook first ends the
 * benchmark's child processes (its peers: a process in a mount keeps its filesystem busy, and a peer whose parent is
 * gone runs on to the end of its warm-up), then undoes what is still pending, the latest first.
 *
 * <p>After every undo, the drivers' run directories whose homes are gone are swept ({@link RunDirectory#sweep()}):
 * the kit keeps one per home on a tmpfs ({@code /dev/shm/strata-<uid>}, {@code /run/strata}), beyond the process that
 * made it, and nothing but a sweep removes it once its home is gone. The undo has just removed the homes it held.
 */
final class Teardown implements AutoCloseable {
    /** An undo; may throw. */
    @FunctionalInterface
    interface Undo {
        void run() throws Exception;
    }

    /** Guarded by {@code Teardown.class}, which an undo holds while it runs: the hook waits for one in progress. */
    private static final Deque<Teardown> PENDING = new ArrayDeque<>();
    private static boolean hooked;
    private static volatile boolean stopping;
    private final String what;
    private Undo undo;

    private Teardown(String what, Undo undo) {
        this.what = what;
        this.undo = undo;
    }

    /** {@code undo} to run once, at {@link #close()} or at the JVM's shutdown; {@code what} names it in a failure. */
    static Teardown of(String what, Undo undo) {
        Teardown t = new Teardown(what, undo);
        synchronized (Teardown.class) {
            if (!hooked) {
                Runtime.getRuntime().addShutdownHook(new Thread(Teardown::atShutdown, "benchmark-teardown"));
                hooked = true;
            }
            PENDING.push(t);
        }
        return t;
    }

    @Override
    public void close() throws Exception {
        synchronized (Teardown.class) {
            PENDING.remove(this);
            Undo u = undo;
            undo = null;
            if (u == null) return;
            try {
                u.run();
            } finally {
                RunDirectory.sweep();
            }
        }
    }

    /** The JVM is shutting down: a benchmark starts no process now ({@link PeerSession#start}). */
    static boolean stopping() {
        return stopping;
    }

    private static void atShutdown() {
        stopping = true;
        // Again until none is left: the benchmark's thread runs on meanwhile, and may have started one as we looked.
        for (int round = 0; round < 10; round++) {
            List<ProcessHandle> children = ProcessHandle.current().descendants().toList();
            if (children.isEmpty()) break;
            children.forEach(ProcessHandle::destroy);
            for (ProcessHandle p : children) {
                try {
                    p.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    p.destroyForcibly();
                }
            }
        }
        synchronized (Teardown.class) {
            List<Teardown> all = new ArrayList<>(PENDING);
            List<Undo> undos = all.stream().map(t -> t.undo).toList();
            for (Teardown t : all) {
                try {
                    t.close();
                } catch (Exception | Error e) {
                    // the second pass says what is still wrong
                }
            }
            // Once more after a moment: the benchmark's thread runs on until the JVM halts, and its finally (a driver's
            // cleanup, a fresh root) may have written again into what the first pass removed, as its calls failed.
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (int i = 0; i < all.size(); i++) {
                undo(all.get(i).what, undos.get(i));
            }
            undo("run directories", RunDirectory::sweep);
        }
    }

    private static void undo(String what, Undo undo) {
        try {
            undo.run();
        } catch (Exception | Error e) {
            System.err.println("benchmark: could not undo " + what + " at shutdown: " + e);
        }
    }
}
