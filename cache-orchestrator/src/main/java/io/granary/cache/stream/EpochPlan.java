package io.granary.cache.stream;

import io.granary.common.GranaryException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which rows each rank of a data-parallel job reads in one epoch, and in what order: a pure
 * function of the snapshot's units, the seed and the epoch, so that every rank (and every
 * restart) computes the same plan without talking to the others.
 *
 * <p>The epoch's sequence is the units' rows in order (the units shuffled by seed and epoch unless
 * {@link Shuffle#NONE}). Rank r of W reads the r-th contiguous block of it, so ranks are disjoint,
 * together complete, and each reads mostly whole units. Every rank gets the same number of rows:
 * without drop_last the sequence is padded by repeating its first rows (as PyTorch's
 * DistributedSampler pads), with it the remainder is dropped. With {@link Shuffle#BUFFER} a
 * rank's rows are also shuffled within consecutive windows of {@code shuffleBuffer} rows, which is
 * what a shuffle buffer of that size does, but with an order that a restart can compute from the
 * window alone. Positions are indices into the epoch's sequence; {@link #locate} turns one into a
 * unit and a row within it.
 */
public final class EpochPlan {

    /** Rows {@code [offset, offset + rows)} of one unit, read in order. */
    public record Slice(StreamUnit unit, long offset, long rows) {}

    /** Rows of each rank of an earlier run with another world size that were consumed already (elastic resume). */
    public record Consumed(int worldSize, long[] rowsPerRank) {
        public Consumed {
            if (rowsPerRank.length != worldSize) {
                throw new GranaryException("descriptor key 'consumed' lists " + rowsPerRank.length + " ranks for a world size of " + worldSize,
                        "give one count per rank of the run being resumed");
            }
            rowsPerRank = rowsPerRank.clone();
        }
    }

    private final List<StreamUnit> order;
    private final long[] starts;
    private final long totalRows;
    private final long seed;
    private final int epoch;
    private final Shuffle shuffle;

    private EpochPlan(List<StreamUnit> order, long seed, int epoch, Shuffle shuffle) {
        this.order = List.copyOf(order);
        this.starts = new long[order.size() + 1];
        for (int i = 0; i < order.size(); i++) {
            starts[i + 1] = starts[i] + order.get(i).rows();
        }
        this.totalRows = starts[order.size()];
        this.seed = seed;
        this.epoch = epoch;
        this.shuffle = shuffle;
    }

    /** The epoch's order of {@code units} (given in the snapshot's order). */
    public static EpochPlan of(List<StreamUnit> units, long seed, int epoch, Shuffle shuffle) {
        List<StreamUnit> order = new ArrayList<>(units);
        if (shuffle != Shuffle.NONE) {
            permute(order, new SplittableRandom(mix(seed, epoch, -1, -1)));
        }
        return new EpochPlan(order, seed, epoch, shuffle);
    }

    public List<StreamUnit> units() {
        return order;
    }

    public long totalRows() {
        return totalRows;
    }

    /** The unit holding a position of the epoch's sequence, and the row within it. */
    public Slice locate(long position) {
        if (position < 0 || position >= totalRows) {
            throw new IndexOutOfBoundsException("position " + position + " of " + totalRows);
        }
        int found = Arrays.binarySearch(starts, position);
        int unit = found >= 0 ? found : -found - 2;
        while (order.get(unit).rows() == 0) {
            unit++;
        }
        return new Slice(order.get(unit), position - starts[unit], 1);
    }

    /** Rank {@code rank} of {@code worldSize} in a fresh epoch. */
    public RankPlan rank(int rank, int worldSize, boolean dropLast, int shuffleBuffer) {
        return rank(rank, worldSize, dropLast, shuffleBuffer, null);
    }

    /**
     * Rank {@code rank} of {@code worldSize}; with {@code consumed}, of a job resumed with another
     * world size: the rows the earlier ranks consumed are left out, and the rest of the epoch is
     * divided over the new ranks.
     */
    public RankPlan rank(int rank, int worldSize, boolean dropLast, int shuffleBuffer, Consumed consumed) {
        if (worldSize < 1) {
            throw new GranaryException("descriptor key 'world_size' must be at least 1, not " + worldSize, "give the number of ranks");
        }
        if (rank < 0 || rank >= worldSize) {
            throw new GranaryException("rank " + rank + " is out of range for world_size " + worldSize, "ranks are 0 to world_size - 1");
        }
        long[] remaining = consumed == null ? new long[] {0, totalRows} : remaining(consumed, dropLast, shuffleBuffer);
        return RankPlan.of(this, remaining, rank, worldSize, dropLast, shuffleBuffer);
    }

    /** The positions not consumed by the earlier run, as sorted disjoint [from, to) pairs. */
    private long[] remaining(Consumed consumed, boolean dropLast, int shuffleBuffer) {
        Intervals taken = new Intervals();
        for (int old = 0; old < consumed.worldSize(); old++) {
            RankPlan before = rank(old, consumed.worldSize(), dropLast, shuffleBuffer);
            long count = consumed.rowsPerRank()[old];
            if (count < 0 || count > before.rows()) {
                throw new GranaryException("descriptor key 'consumed' says rank " + old + " consumed " + count + " rows, but it had "
                        + before.rows() + " in this epoch", "give the rows each rank of the earlier run consumed in this epoch");
            }
            before.addPositions(0, count, taken);
        }
        return taken.complement(totalRows);
    }

    /**
     * Unit {@code index} of the epoch's order read whole, as dynamic mode sends a leased unit: in
     * order, or with {@link Shuffle#BUFFER} its rows shuffled within windows of {@code shuffleBuffer}
     * rows (a function of seed, epoch and the unit's place alone).
     */
    public List<Slice> unitSlices(int index, int shuffleBuffer) {
        StreamUnit unit = order.get(index);
        if (shuffle != Shuffle.BUFFER || shuffleBuffer <= 1 || unit.rows() <= 1) {
            return unit.rows() == 0 ? List.of() : List.of(new Slice(unit, 0, unit.rows()));
        }
        List<Slice> slices = new ArrayList<>();
        for (long start = 0; start < unit.rows(); start += shuffleBuffer) {
            int length = (int) Math.min(shuffleBuffer, unit.rows() - start);
            int[] rows = new int[length];
            for (int k = 0; k < length; k++) {
                rows[k] = k;
            }
            SplittableRandom random = new SplittableRandom(mix(seed, epoch, -2 - index, start));
            for (int k = length - 1; k > 0; k--) {
                int j = random.nextInt(k + 1);
                int swap = rows[k];
                rows[k] = rows[j];
                rows[j] = swap;
            }
            for (int row : rows) {
                slices.add(new Slice(unit, start + row, 1));
            }
        }
        return slices;
    }

    SplittableRandom windowRandom(int rank, int worldSize, long window) {
        return new SplittableRandom(mix(seed, epoch, rank * 1_000_003L + worldSize, window));
    }

    Shuffle shuffle() {
        return shuffle;
    }

    private static void permute(List<StreamUnit> units, SplittableRandom random) {
        for (int i = units.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            StreamUnit swap = units.get(i);
            units.set(i, units.get(j));
            units.set(j, swap);
        }
    }

    /** A seed for one purpose, mixed from the job's seed and epoch (SplitMix64's finalizer over each part). */
    private static long mix(long seed, int epoch, long a, long b) {
        long h = 0x9E3779B97F4A7C15L;
        for (long part : new long[] {seed, epoch, a, b}) {
            h = finalize(h ^ finalize(part + 0x9E3779B97F4A7C15L));
        }
        return h;
    }

    private static long finalize(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
