package dev.strata.cli;

import dev.strata.nativeio.Kernel;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress line on stderr for apply and diff, drawn only when stderr is a terminal, at most ten times a second.
 */
final class Progress implements AutoCloseable {
    private final String label;
    private final long total;
    private final PrintStream err;
    private final long start = System.nanoTime();
    private long done;
    private long lastDraw;

    private Progress(String label, long total) {
        this.label = label;
        this.total = total;
        this.err = System.err;
    }

    /** A progress line, or null when stderr is not a terminal. */
    static Progress start(String label, long total) {
        return Kernel.isatty(2) ? new Progress(label, total) : null;
    }

    static InputStream counting(InputStream in, Progress p) {
        if (p == null) return in;
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) p.add(1);
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) p.add(n);
                return n;
            }
        };
    }

    static OutputStream counting(OutputStream out, Progress p) {
        if (p == null) return out;
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                p.add(len);
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
                p.add(1);
            }
        };
    }

    private void add(long n) {
        done += n;
        long now = System.nanoTime();
        if (now - lastDraw > 100_000_000L) {
            lastDraw = now;
            draw(false);
        }
    }

    private void draw(boolean last) {
        double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
        String rate = mb(done / secs) + "/s";
        String line;
        if (total > 0) {
            int pct = (int) Math.min(100, done * 100 / total);
            int width = 30;
            int filled = pct * width / 100;
            line = String.format(Locale.ROOT, "%s [%s%s] %3d%% %s / %s  %s", label, "#".repeat(filled), " ".repeat(width - filled),
                    pct, mb(done), mb(total), rate);
        } else {
            line = String.format(Locale.ROOT, "%s %s  %s", label, mb(done), rate);
        }
        err.print("\r" + line + "\u001b[K" + (last ? "\n" : ""));
        err.flush();
    }

    private static String mb(double bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    @Override
    public void close() {
        draw(true);
    }
}
