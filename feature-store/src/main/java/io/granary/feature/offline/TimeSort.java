package io.granary.feature.offline;

import java.util.Arrays;

/** Sorts a run of times ascending, carrying an int per time along: no boxing, stable. */
final class TimeSort {

    private static final int INSERTION_MAX = 32;

    private TimeSort() {
    }

    /** Sorts {@code times[from, to)} and moves {@code rows[from, to)} with them. */
    static void sort(long[] times, int[] rows, int from, int to) {
        if (to - from <= INSERTION_MAX) {
            insertion(times, rows, from, to);
            return;
        }
        int length = to - from;
        long[] sortedTimes = Arrays.copyOfRange(times, from, to);
        int[] sortedRows = Arrays.copyOfRange(rows, from, to);
        mergeSort(Arrays.copyOf(sortedTimes, length), Arrays.copyOf(sortedRows, length), sortedTimes, sortedRows, 0, length);
        System.arraycopy(sortedTimes, 0, times, from, length);
        System.arraycopy(sortedRows, 0, rows, from, length);
    }

    private static void insertion(long[] times, int[] rows, int from, int to) {
        for (int i = from + 1; i < to; i++) {
            long time = times[i];
            int row = rows[i];
            int j = i - 1;
            while (j >= from && times[j] > time) {
                times[j + 1] = times[j];
                rows[j + 1] = rows[j];
                j--;
            }
            times[j + 1] = time;
            rows[j + 1] = row;
        }
    }

    /**
     * Sorts the values of {@code [from, to)} into {@code outTimes/outRows}; on entry both pairs of
     * arrays hold the same values there, and the {@code src} pair is used as scratch.
     */
    private static void mergeSort(long[] srcTimes, int[] srcRows, long[] outTimes, int[] outRows, int from, int to) {
        if (to - from <= INSERTION_MAX) {
            insertion(outTimes, outRows, from, to);
            return;
        }
        int middle = (from + to) >>> 1;
        mergeSort(outTimes, outRows, srcTimes, srcRows, from, middle);
        mergeSort(outTimes, outRows, srcTimes, srcRows, middle, to);
        int left = from;
        int right = middle;
        for (int out = from; out < to; out++) {
            if (right >= to || (left < middle && srcTimes[left] <= srcTimes[right])) {
                outTimes[out] = srcTimes[left];
                outRows[out] = srcRows[left++];
            } else {
                outTimes[out] = srcTimes[right];
                outRows[out] = srcRows[right++];
            }
        }
    }
}
