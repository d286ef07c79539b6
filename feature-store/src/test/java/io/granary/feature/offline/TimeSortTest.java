package io.granary.feature.offline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** TimeSort against a stable library sort: short runs (insertion) and long ones (merging), many equal times. */
class TimeSortTest {

    @Test
    void sortsARangeStablyCarryingRowsAlong() {
        Random random = new Random(5);
        for (int length : new int[] {0, 1, 2, 31, 32, 33, 100, 1000, 5000}) {
            long[] times = new long[length + 20];
            int[] rows = new int[length + 20];
            for (int i = 0; i < times.length; i++) {
                times[i] = random.nextInt(Math.max(1, length / 4));
                rows[i] = i;
            }
            long[] timesBefore = times.clone();
            Integer[] expected = new Integer[length];
            for (int i = 0; i < length; i++) {
                expected[i] = 10 + i;
            }
            Arrays.sort(expected, Comparator.comparingLong(row -> timesBefore[row]));

            TimeSort.sort(times, rows, 10, 10 + length);

            for (int i = 0; i < length; i++) {
                assertThat(rows[10 + i]).as("length %d, position %d", length, i).isEqualTo(expected[i]);
                assertThat(times[10 + i]).isEqualTo(timesBefore[expected[i]]);
            }
            // outside the range nothing moves
            for (int i = 0; i < 10; i++) {
                assertThat(rows[i]).isEqualTo(i);
                assertThat(rows[times.length - 1 - i]).isEqualTo(times.length - 1 - i);
            }
        }
    }
}
