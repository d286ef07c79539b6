package io.granary.cache.stream;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What one rank reads in one epoch (see {@link EpochPlan}): {@link #rows} rows, the i-th of which
 * is epoch position {@link #position}(i); {@link #slices} gives them as runs within units, from
 * any row on, which is how a stream resumes after {@code start_row} rows.
 */
public final class RankPlan {

    private final EpochPlan plan;
    /** The epoch positions this plan draws from, as {from, to, from, to, ...} runs, and where each run starts in their concatenation. */
    private final long[] runs;
    private final long[] runStarts;
    private final long available;
    private final long first;
    private final long rows;
    private final int rank;
    private final int worldSize;
    private final int window;

    private RankPlan(EpochPlan plan, long[] runs, int rank, int worldSize, boolean dropLast, int shuffleBuffer) {
        this.plan = plan;
        this.runs = runs;
        this.runStarts = new long[runs.length / 2 + 1];
        for (int i = 0; i < runs.length / 2; i++) {
            runStarts[i + 1] = runStarts[i] + runs[2 * i + 1] - runs[2 * i];
        }
        this.available = runStarts[runs.length / 2];
        long perRank = dropLast ? available / worldSize : (available + worldSize - 1) / worldSize;
        this.rows = perRank;
        this.first = (long) rank * perRank;
        this.rank = rank;
        this.worldSize = worldSize;
        this.window = plan.shuffle() == Shuffle.BUFFER && shuffleBuffer > 1 ? shuffleBuffer : 1;
    }

    static RankPlan of(EpochPlan plan, long[] remaining, int rank, int worldSize, boolean dropLast, int shuffleBuffer) {
        return new RankPlan(plan, remaining, rank, worldSize, dropLast, shuffleBuffer);
    }

    /** Rows this rank reads in the epoch: the same for every rank. */
    public long rows() {
        return rows;
    }

    /** The epoch position this rank reads as its i-th row. */
    public long position(long i) {
        if (i < 0 || i >= rows) {
            throw new IndexOutOfBoundsException("row " + i + " of " + rows);
        }
        return atVirtual(first + local(i));
    }

    /** The rows from {@code startRow} to the end of the rank's epoch, as runs within units, in the order they are read. */
    public List<EpochPlan.Slice> slices(long startRow) {
        List<EpochPlan.Slice> out = new ArrayList<>();
        forEachRun(startRow, rows, (from, count) -> split(from, count, out));
        return out;
    }

    /** Adds the positions of rows [fromRow, fromRow + count) to {@code set}. */
    void addPositions(long fromRow, long count, Intervals set) {
        forEachRun(fromRow, fromRow + count, (from, length) -> set.add(from, from + length));
    }

    private interface RunConsumer {
        void accept(long fromPosition, long length);
    }

    /** Calls back with runs of consecutive epoch positions covering rows [fromRow, toRow) in reading order. */
    private void forEachRun(long fromRow, long toRow, RunConsumer consumer) {
        if (fromRow < 0 || fromRow > rows) {
            throw new IndexOutOfBoundsException("start row " + fromRow + " of " + rows);
        }
        if (window == 1) {
            virtualRuns(first + fromRow, first + toRow, consumer);
            return;
        }
        long pendingFrom = -1;
        long pendingLength = 0;
        for (long i = fromRow; i < toRow; i++) {
            long position = position(i);
            if (pendingLength > 0 && position == pendingFrom + pendingLength) {
                pendingLength++;
                continue;
            }
            if (pendingLength > 0) {
                consumer.accept(pendingFrom, pendingLength);
            }
            pendingFrom = position;
            pendingLength = 1;
        }
        if (pendingLength > 0) {
            consumer.accept(pendingFrom, pendingLength);
        }
    }

    /** Virtual indices [from, to) of the concatenated runs (past their end: again from their start, the padding) as position runs. */
    private void virtualRuns(long from, long to, RunConsumer consumer) {
        long v = from;
        while (v < to) {
            long inRange = v % available;
            long end = Math.min(to, v - inRange + available);
            int run = runOf(inRange);
            long offset = inRange - runStarts[run];
            long left = end - v;
            while (left > 0) {
                long runFrom = runs[2 * run] + offset;
                long length = Math.min(left, runs[2 * run + 1] - runFrom);
                consumer.accept(runFrom, length);
                left -= length;
                run++;
                offset = 0;
            }
            v = end;
        }
    }

    private long atVirtual(long v) {
        long inRange = v % available;
        int run = runOf(inRange);
        return runs[2 * run] + inRange - runStarts[run];
    }

    private int runOf(long index) {
        int found = Arrays.binarySearch(runStarts, index);
        int run = found >= 0 ? found : -found - 2;
        // skip empty runs that start at the same index
        while (runs[2 * run + 1] - runs[2 * run] == 0) {
            run++;
        }
        return run;
    }

    /** Row i's place in the rank's block: itself, or shuffled within its window of the shuffle buffer. */
    private long local(long i) {
        if (window == 1) {
            return i;
        }
        long start = i / window * window;
        int length = (int) Math.min(window, rows - start);
        return start + permutation(start / window, length)[(int) (i - start)];
    }

    private long cachedWindow = -1;
    private int[] cachedPermutation;

    private int[] permutation(long windowIndex, int length) {
        if (windowIndex != cachedWindow) {
            int[] order = new int[length];
            for (int k = 0; k < length; k++) {
                order[k] = k;
            }
            SplittableRandom random = plan.windowRandom(rank, worldSize, windowIndex);
            for (int k = length - 1; k > 0; k--) {
                int j = random.nextInt(k + 1);
                int swap = order[k];
                order[k] = order[j];
                order[j] = swap;
            }
            cachedWindow = windowIndex;
            cachedPermutation = order;
        }
        return cachedPermutation;
    }

    /** Splits a run of positions at unit boundaries, merging with the previous slice when it continues it. */
    private void split(long from, long length, List<EpochPlan.Slice> out) {
        long position = from;
        long left = length;
        while (left > 0) {
            EpochPlan.Slice at = plan.locate(position);
            long take = Math.min(left, at.unit().rows() - at.offset());
            EpochPlan.Slice last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.unit() == at.unit() && last.offset() + last.rows() == at.offset()) {
                out.set(out.size() - 1, new EpochPlan.Slice(at.unit(), last.offset(), last.rows() + take));
            } else {
                out.add(new EpochPlan.Slice(at.unit(), at.offset(), take));
            }
            position += take;
            left -= take;
        }
    }
}
