package io.granary.feature.offline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LongIdsTest {

    /** Ids are 0, 1, 2, ... in order of first appearance, the same key always the same id, whichever way they are kept. */
    private static void numbersLikeAMap(LongIds ids, long[] keys) {
        Map<Long, Integer> expected = new HashMap<>();
        for (long key : keys) {
            int id = ids.add(key);
            assertThat(id).as("key %d", key).isEqualTo(expected.computeIfAbsent(key, k -> expected.size()));
        }
        assertThat(ids.size()).isEqualTo(expected.size());
        expected.forEach((key, id) -> assertThat(ids.get(key)).isEqualTo(id));
        assertThat(ids.get(Long.MIN_VALUE + 7)).isEqualTo(-1);
    }

    @Test
    void hashedKeys() {
        Random random = new Random(1);
        long[] keys = new long[200_000];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = random.nextLong() % 50_000;
        }
        numbersLikeAMap(new LongIds(16), keys);
    }

    @Test
    void keysWithinAKnownRangeAndSomeOutsideIt() {
        Random random = new Random(2);
        long[] keys = new long[200_000];
        for (int i = 0; i < keys.length; i++) {
            // mostly within [1000, 60000], the range the bounds gave; a few outside (bounds are only as good as their writer)
            keys[i] = i % 1000 == 0 ? -5 - random.nextInt(100) : i % 997 == 0 ? 60_001 + random.nextInt(100) : 1000 + random.nextInt(59_001);
        }
        numbersLikeAMap(LongIds.within(1000, 60_000, keys.length), keys);
    }

    @Test
    void aRangeFarWiderThanTheKeysIsHashed() {
        numbersLikeAMap(LongIds.within(0, Long.MAX_VALUE, 10), new long[] {Long.MAX_VALUE, 0, 12, Long.MAX_VALUE, 12});
        numbersLikeAMap(LongIds.within(Long.MIN_VALUE, Long.MAX_VALUE, 10), new long[] {Long.MIN_VALUE, -1, 1, Long.MAX_VALUE});
    }
}
