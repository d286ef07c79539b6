package io.granary.common;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress of a long task: a redrawn line on a terminal, a log line every ten seconds otherwise.
 * Workers call {@link #advance} from any thread; a daemon thread does the printing.
 */
public final class Progress implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Progress.class);

    private final String task;
    private final String unit;
    private final long total;
    private volatile long totalBytes = -1;
    private final long startNanos = System.nanoTime();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final ScheduledExecutorService ticker;
    private final PrintStream terminal;

    private Progress(String task, String unit, long total, boolean quiet) {
        this.task = task;
        this.unit = unit;
        this.total = total;
        this.terminal = !quiet && System.console() != null ? System.err : null;
        if (quiet) {
            this.ticker = null;
            return;
        }
        this.ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "granary-progress");
            thread.setDaemon(true);
            return thread;
        });
        long period = terminal != null ? 250 : 10_000;
        ticker.scheduleAtFixedRate(this::report, period, period, TimeUnit.MILLISECONDS);
    }

    /** Starts reporting; {@code total} is the expected number of units, or -1 if unknown. */
    public static Progress start(String task, String unit, long total) {
        return new Progress(task, unit, total, false);
    }

    /** A tracker that counts but never prints, for library callers that report themselves. */
    public static Progress silent(String task, String unit) {
        return new Progress(task, unit, -1, true);
    }

    /** Measure the bar in bytes against this total (e.g. input file sizes), rows being unknown. */
    public Progress withTotalBytes(long bytesExpected) {
        this.totalBytes = bytesExpected;
        return this;
    }

    public void advance(long units, long byteCount) {
        done.addAndGet(units);
        bytes.addAndGet(byteCount);
    }

    public long done() {
        return done.get();
    }

    public long bytesDone() {
        return bytes.get();
    }

    public Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private void report() {
        String line = describe();
        if (terminal != null) {
            terminal.print("\r" + line + "   ");
            terminal.flush();
        } else {
            LOG.info(line);
        }
    }

    private String describe() {
        double seconds = Math.max(1e-3, elapsed().toNanos() / 1e9);
        long units = done.get();
        double rate = units / seconds;
        StringBuilder text = new StringBuilder(task).append(": ");
        long doneBytes = bytes.get();
        long expectedBytes = totalBytes;
        double fraction = total > 0 ? (double) units / total : expectedBytes > 0 ? (double) doneBytes / expectedBytes : -1;
        if (fraction >= 0) {
            int percent = (int) Math.min(100, fraction * 100);
            int filled = percent / 5;
            text.append('[').append("#".repeat(filled)).append(".".repeat(20 - filled)).append("] ")
                    .append(percent).append("% ");
        }
        text.append(String.format(Locale.ROOT, "%,d %s", units, unit));
        if (bytes.get() > 0) {
            text.append(", ").append(Sizes.format(bytes.get()));
        }
        text.append(String.format(Locale.ROOT, ", %,.0f %s/s", rate, unit));
        if (fraction > 0 && fraction < 1) {
            text.append(", ETA ").append((long) (seconds * (1 - fraction) / fraction)).append('s');
        }
        return text.toString();
    }

    @Override
    public void close() {
        if (ticker == null) {
            return;
        }
        ticker.shutdownNow();
        if (terminal != null) {
            terminal.print("\r" + " ".repeat(100) + "\r");
            terminal.flush();
        }
    }
}
