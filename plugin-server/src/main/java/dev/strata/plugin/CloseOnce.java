package dev.strata.plugin;

import java.util.concurrent.CountDownLatch;

/** A server's close runs once: the first caller closes, later ones wait until it has finished. */
public final class CloseOnce {
    private final CountDownLatch done = new CountDownLatch(1);
    private boolean started;

    /** True for the one caller that must close; any other waits for that close to end and gets false. */
    public boolean begin() {
        synchronized (this) {
            if (!started) {
                started = true;
                return true;
            }
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** Called by the closer at the very end. */
    public void finished() {
        done.countDown();
    }

    /** Blocks until the close has finished. */
    public void await() throws InterruptedException {
        done.await();
    }
}
