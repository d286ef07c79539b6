package io.granary.cache.stream;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A set of epoch positions kept as [from, to) runs; runs may be added in any order and may overlap. */
final class Intervals {

    private final List<long[]> runs = new ArrayList<>();

    void add(long from, long to) {
        if (to > from) {
            runs.add(new long[] {from, to});
        }
    }

    /** The positions of [0, total) not in this set, as sorted disjoint runs flattened into {from, to, from, to, ...}. */
    long[] complement(long total) {
        runs.sort(Comparator.comparingLong(run -> run[0]));
        List<Long> out = new ArrayList<>();
        long next = 0;
        for (long[] run : runs) {
            if (run[0] > next) {
                out.add(next);
                out.add(Math.min(run[0], total));
            }
            next = Math.max(next, run[1]);
        }
        if (next < total) {
            out.add(next);
            out.add(total);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }
}
