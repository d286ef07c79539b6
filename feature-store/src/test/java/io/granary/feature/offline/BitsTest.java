package io.granary.feature.offline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Bits against java.util.BitSet on random sets, ranges and bounds that cross 64-bit words. */
class BitsTest {

    @Test
    void agreesWithBitSet() {
        Random random = new Random(3);
        int size = 1000;
        Bits bits = new Bits(size);
        BitSet expected = new BitSet(size);
        for (int round = 0; round < 2000; round++) {
            int at = random.nextInt(size);
            int to = Math.min(size, at + random.nextInt(200));
            switch (random.nextInt(3)) {
                case 0 -> {
                    bits.set(at);
                    expected.set(at);
                }
                case 1 -> {
                    bits.clear(at, to);
                    expected.clear(at, to);
                }
                default -> {
                    int eight = 0;
                    for (int bit = 0; bit < 8 && at + bit < size; bit++) {
                        eight |= expected.get(at + bit) ? 1 << bit : 0;
                    }
                    assertThat(bits.byteAt(at)).as("8 bits from %d", at).isEqualTo(eight);
                    int next = expected.nextSetBit(at);
                    assertThat(bits.nextSet(at, to)).isEqualTo(next >= 0 && next < to ? next : -1);
                    assertThat(bits.count(at, to)).isEqualTo(expected.get(at, to).cardinality());
                }
            }
            assertThat(bits.get(at)).isEqualTo(expected.get(at));
        }
        assertThat(bits.nextSet(size, size)).isEqualTo(-1);
    }
}
