package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.granary.common.GranaryException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EpochPlanTest {

    /** Units of uneven sizes, some empty, like row groups of a table's files or a packed set's shards. */
    private static List<StreamUnit> units(int count, long seed) {
        Random random = new Random(seed);
        List<StreamUnit> units = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            units.add(new StreamUnit("data/file-" + (i / 3) + ".parquet", i % 3, i % 7 == 5 ? 0 : 1 + random.nextInt(40)));
        }
        return units;
    }

    /** The epoch positions a list of slices covers, in order. */
    private static List<Long> positions(EpochPlan plan, List<EpochPlan.Slice> slices) {
        Map<StreamUnit, Long> starts = new IdentityHashMap<>();
        long start = 0;
        for (StreamUnit unit : plan.units()) {
            starts.put(unit, start);
            start += unit.rows();
        }
        List<Long> out = new ArrayList<>();
        for (EpochPlan.Slice slice : slices) {
            assertThat(slice.rows()).isPositive();
            assertThat(slice.offset() + slice.rows()).isLessThanOrEqualTo(slice.unit().rows());
            for (long k = 0; k < slice.rows(); k++) {
                out.add(starts.get(slice.unit()) + slice.offset() + k);
            }
        }
        return out;
    }

    @Test
    void ranksAreDisjointCompleteAndEqualForEveryWorldSizeAndShuffle() {
        List<StreamUnit> units = units(40, 1);
        for (Shuffle shuffle : Shuffle.values()) {
            EpochPlan plan = EpochPlan.of(units, 7, 3, shuffle);
            long total = plan.totalRows();
            for (int world : new int[] {1, 2, 3, 8}) {
                for (boolean dropLast : new boolean[] {false, true}) {
                    Map<Long, Integer> seen = new HashMap<>();
                    long perRank = -1;
                    for (int rank = 0; rank < world; rank++) {
                        RankPlan ranked = plan.rank(rank, world, dropLast, 16);
                        List<Long> got = positions(plan, ranked.slices(0));
                        assertThat(got).hasSize((int) ranked.rows());
                        if (perRank >= 0) {
                            assertThat(ranked.rows()).as("rank %d of %d", rank, world).isEqualTo(perRank);
                        }
                        perRank = ranked.rows();
                        for (int i = 0; i < got.size(); i++) {
                            assertThat(ranked.position(i)).isEqualTo(got.get(i));
                        }
                        got.forEach(p -> seen.merge(p, 1, Integer::sum));
                    }
                    String what = shuffle + ", world " + world + ", drop_last " + dropLast;
                    if (dropLast) {
                        assertThat(perRank).as(what).isEqualTo(total / world);
                        assertThat(seen.values()).as(what).allMatch(n -> n == 1);
                        assertThat(seen).as(what).hasSize((int) (total / world * world));
                    } else {
                        assertThat(perRank).as(what).isEqualTo((total + world - 1) / world);
                        assertThat(seen).as(what).hasSize((int) total);
                        long padding = perRank * world - total;
                        // the padding repeats the first rows of the epoch's sequence, each once
                        assertThat(seen.entrySet().stream().filter(e -> e.getValue() == 2).map(Map.Entry::getKey).sorted().toList())
                                .as(what).isEqualTo(java.util.stream.LongStream.range(0, padding).boxed().toList());
                    }
                }
            }
        }
    }

    @Test
    void theOrderIsAFunctionOfSeedAndEpochAndChangesEveryEpoch() {
        List<StreamUnit> units = units(30, 2);
        List<StreamUnit> epoch0 = EpochPlan.of(units, 11, 0, Shuffle.UNITS).units();
        assertThat(EpochPlan.of(units, 11, 0, Shuffle.UNITS).units()).isEqualTo(epoch0).isNotEqualTo(units)
                .containsExactlyInAnyOrderElementsOf(units);
        assertThat(EpochPlan.of(units, 11, 1, Shuffle.UNITS).units()).isNotEqualTo(EpochPlan.of(units, 11, 0, Shuffle.UNITS).units());
        assertThat(EpochPlan.of(units, 12, 0, Shuffle.UNITS).units()).isNotEqualTo(EpochPlan.of(units, 11, 0, Shuffle.UNITS).units());
        assertThat(EpochPlan.of(units, 11, 5, Shuffle.NONE).units()).isEqualTo(units);

        EpochPlan buffered = EpochPlan.of(units, 11, 0, Shuffle.BUFFER);
        EpochPlan unitsOnly = EpochPlan.of(units, 11, 0, Shuffle.UNITS);
        assertThat(buffered.units()).isEqualTo(unitsOnly.units());
        List<Long> shuffledRows = positions(buffered, buffered.rank(0, 2, false, 32).slices(0));
        List<Long> inOrder = positions(unitsOnly, unitsOnly.rank(0, 2, false, 32).slices(0));
        assertThat(shuffledRows).isNotEqualTo(inOrder).containsExactlyInAnyOrderElementsOf(inOrder);
        // rows move only within their window of the buffer
        for (int i = 0; i < shuffledRows.size(); i++) {
            assertThat(inOrder.indexOf(shuffledRows.get(i)) / 32).isEqualTo(i / 32);
        }
    }

    @Test
    void aResumedStreamIsTheTailOfAnUninterruptedOne() {
        List<StreamUnit> units = units(25, 3);
        for (Shuffle shuffle : Shuffle.values()) {
            EpochPlan plan = EpochPlan.of(units, 5, 2, shuffle);
            RankPlan rank = plan.rank(1, 3, false, 10);
            List<Long> whole = positions(plan, rank.slices(0));
            for (long start : new long[] {0, 1, 9, 10, 11, rank.rows() / 2, rank.rows() - 1, rank.rows()}) {
                assertThat(positions(plan, EpochPlan.of(units, 5, 2, shuffle).rank(1, 3, false, 10).slices(start)))
                        .as("%s from %d", shuffle, start).isEqualTo(whole.subList((int) start, whole.size()));
            }
        }
    }

    @Test
    void anElasticResumeFromFourRanksToThreeDeliversEveryRowExactlyOnce() {
        // 4 * 3 divides the epoch, so neither run pads
        List<StreamUnit> units = List.of(new StreamUnit("a", 0, 30), new StreamUnit("a", 1, 24), new StreamUnit("b", 0, 18),
                new StreamUnit("c", 0, 0), new StreamUnit("d", 0, 36));
        for (Shuffle shuffle : Shuffle.values()) {
            EpochPlan plan = EpochPlan.of(units, 9, 1, shuffle);
            assertThat(plan.totalRows()).isEqualTo(108);
            long[] consumed = {5, 27, 0, 13};
            Map<Long, Integer> seen = new HashMap<>();
            for (int old = 0; old < 4; old++) {
                List<Long> before = positions(plan, plan.rank(old, 4, false, 8).slices(0));
                before.subList(0, (int) consumed[old]).forEach(p -> seen.merge(p, 1, Integer::sum));
            }
            EpochPlan.Consumed earlier = new EpochPlan.Consumed(4, consumed);
            long perRank = -1;
            for (int rank = 0; rank < 3; rank++) {
                RankPlan resumed = plan.rank(rank, 3, false, 8, earlier);
                if (perRank >= 0) {
                    assertThat(resumed.rows()).isEqualTo(perRank);
                }
                perRank = resumed.rows();
                positions(plan, resumed.slices(0)).forEach(p -> seen.merge(p, 1, Integer::sum));
            }
            assertThat(perRank).isEqualTo((108 - 45) / 3);
            assertThat(seen).as(shuffle.toString()).hasSize(108);
            assertThat(seen.values()).as(shuffle.toString()).allMatch(n -> n == 1);
        }
    }

    @Test
    void badArgumentsNameTheKey() {
        EpochPlan plan = EpochPlan.of(units(5, 4), 0, 0, Shuffle.NONE);
        assertThatThrownBy(() -> plan.rank(2, 2, false, 0)).isInstanceOf(GranaryException.class).hasMessageContaining("rank 2 is out of range");
        assertThatThrownBy(() -> plan.rank(0, 0, false, 0)).isInstanceOf(GranaryException.class).hasMessageContaining("'world_size'");
        assertThatThrownBy(() -> new EpochPlan.Consumed(2, new long[] {1})).isInstanceOf(GranaryException.class)
                .hasMessageContaining("'consumed'");
        assertThatThrownBy(() -> plan.rank(0, 1, false, 0, new EpochPlan.Consumed(2, new long[] {1, 10_000})))
                .isInstanceOf(GranaryException.class).hasMessageContaining("rank 1 consumed 10000 rows");
        assertThatThrownBy(() -> Shuffle.parse("rows")).isInstanceOf(GranaryException.class).hasMessageContaining("'shuffle'");
    }

    @Test
    void anEmptySnapshotGivesEveryRankNothing() {
        EpochPlan plan = EpochPlan.of(List.of(new StreamUnit("a", 0, 0)), 0, 0, Shuffle.UNITS);
        assertThat(plan.rank(1, 2, false, 4).rows()).isZero();
        assertThat(plan.rank(1, 2, false, 4).slices(0)).isEmpty();
    }
}
