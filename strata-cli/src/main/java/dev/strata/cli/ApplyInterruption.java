package dev.strata.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C or SIGTERM in the middle of {@code strata apply}: says which way the apply went, truthfully.
 *
 * <p>The JVM runs shutdown hooks while the applying thread goes on, and a driver's apply is all or nothing. So the
 * hook stops the input (the next read fails), lets the driver settle, and reports what it did: nothing (the layer is
 * unchanged) or the whole diff (it had read the diff and was swapping it in or dropping the old content). The one
 * case it cannot wait out is a read blocked on a writer that never finishes; no swap can have happened then, so the
 * layer is unchanged, and the next command drops what was staged.
 */
final class ApplyInterruption implements AutoCloseable {
    /** How long a read blocked on the input may hold the hook before the layer is reported unchanged. */
    private static final long BLOCKED_READ_GRACE_MS = 2_000;

    private final String id;
    private final InputStream raw;
    private final PrintWriter err;
    private final boolean afterProgressLine;
    private final CountDownLatch settled = new CountDownLatch(1);
    private final Thread hook = new Thread(this::onSignal, "strata-apply-interrupted");
    private volatile boolean applied;
    private volatile boolean interrupted;
    private volatile boolean inRead;

    ApplyInterruption(String id, InputStream raw, PrintWriter err, boolean afterProgressLine) {
        this.id = id;
        this.raw = raw;
        this.err = err;
        this.afterProgressLine = afterProgressLine;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The input the driver reads: it tells the hook whether the driver is blocked reading. */
    InputStream input() {
        return new FilterInputStream(raw) {
            @Override
            public int read() throws IOException {
                inRead = true;
                try {
                    return super.read();
                } finally {
                    inRead = false;
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                inRead = true;
                try {
                    return super.read(b, off, len);
                } finally {
                    inRead = false;
                }
            }
        };
    }

    /** The driver returned: the diff is in. */
    void applied() {
        applied = true;
    }

    /** True once a signal has stopped the apply: its hook has reported the outcome, and nothing more is to be said. */
    boolean interrupted() {
        return interrupted;
    }

    /** The driver returned or threw; a hook that is waiting may report now. */
    @Override
    public void close() {
        settled.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs or has run
        }
    }

    private void onSignal() {
        if (settled.getCount() == 0) return;
        interrupted = true;
        try {
            raw.close(); // the next read fails, so an apply still reading the diff gives up and drops its staging
        } catch (IOException ignored) {
            // closing is best effort: a read already blocked is waited out below
        }
        try {
            while (!settled.await(BLOCKED_READ_GRACE_MS, TimeUnit.MILLISECONDS)) {
                if (inRead) break; // blocked on the writer: nothing was swapped in
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String state = applied ? "the diff was applied to layer " + id + " before it stopped" : "layer " + id + " unchanged";
        err.println((afterProgressLine ? "\n" : "") + "strata: apply " + id + ": interrupted; " + state);
        err.flush();
    }
}
