package io.granary.bench;

import java.util.Arrays;
import java.util.Locale;

/** Recorded request latencies and their percentiles. */
final class Latencies {

    private long[] nanos = new long[1 << 16];
    private int count;

    void record(long value) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, nanos.length * 2);
        }
        nanos[count++] = value;
    }

    void addAll(Latencies other) {
        for (int i = 0; i < other.count; i++) {
            record(other.nanos[i]);
        }
    }

    int count() {
        return count;
    }

    /** The value at quantile q (0..1), in milliseconds. */
    double percentileMillis(double q) {
        if (count == 0) {
            return Double.NaN;
        }
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        int index = (int) Math.min(count - 1, Math.ceil(q * count) - 1);
        return sorted[Math.max(0, index)] / 1e6;
    }

    String summary() {
        return String.format(Locale.ROOT, "p50=%.3f p99=%.3f p999=%.3f n=%d", percentileMillis(0.50), percentileMillis(0.99),
                percentileMillis(0.999), count);
    }
}
