package io.granary.feature.offline;

import java.util.Arrays;

/**
 * Dense ids for long keys (0, 1, 2, ... in order of first appearance) in an open-addressing table
 * of primitives: the common single integer join key without an object per row. Keys known to lie
 * in a range not much wider than their count (ids numbered from 0 or 1, as entity ids often are)
 * take their id from a plain array indexed by key instead: one small, cache-friendly read.
 */
final class LongIds {

    /** A plain array is used for ranges up to this many keys, and up to this many times the expected count. */
    private static final long MAX_DIRECT_RANGE = 1L << 24;
    private static final long DIRECT_PER_KEY = 4;

    private long[] keys;
    private int[] ids;
    private int mask;
    private int size;
    private int inTable;
    private final long directFrom;
    private final int[] direct;

    LongIds(int expected) {
        this(expected, 0, null);
    }

    private LongIds(int expected, long directFrom, int[] direct) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        ids = new int[capacity];
        Arrays.fill(ids, -1);
        mask = capacity - 1;
        this.directFrom = directFrom;
        this.direct = direct;
    }

    /** Ids for keys expected within [min, max] (a key outside still gets one, from the table), {@code count} of them at most. */
    static LongIds within(long min, long max, int count) {
        long range = max - min + 1;
        if (range <= 0 || range > MAX_DIRECT_RANGE || range > Math.max(1 << 16, DIRECT_PER_KEY * count)) {
            return new LongIds(1 << 16);
        }
        int[] direct = new int[(int) range];
        Arrays.fill(direct, -1);
        return new LongIds(16, min, direct);
    }

    int size() {
        return size;
    }

    /** The key's id, adding it if new. */
    int add(long key) {
        if (direct != null && key - directFrom >= 0 && key - directFrom < direct.length) {
            int at = (int) (key - directFrom);
            if (direct[at] < 0) {
                direct[at] = size++;
            }
            return direct[at];
        }
        int slot = slot(key);
        while (ids[slot] >= 0) {
            if (keys[slot] == key) {
                return ids[slot];
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        ids[slot] = size;
        size++;
        if (++inTable * 2 > ids.length) {
            grow();
        }
        return size - 1;
    }

    /** The key's id, or -1. */
    int get(long key) {
        if (direct != null && key - directFrom >= 0 && key - directFrom < direct.length) {
            return direct[(int) (key - directFrom)];
        }
        int slot = slot(key);
        while (ids[slot] >= 0) {
            if (keys[slot] == key) {
                return ids[slot];
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    private int slot(long key) {
        long mixed = key * 0x9E3779B97F4A7C15L;
        return (int) (mixed ^ (mixed >>> 32)) & mask;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldIds = ids;
        keys = new long[oldKeys.length * 2];
        ids = new int[oldIds.length * 2];
        Arrays.fill(ids, -1);
        mask = ids.length - 1;
        for (int i = 0; i < oldIds.length; i++) {
            if (oldIds[i] >= 0) {
                int slot = slot(oldKeys[i]);
                while (ids[slot] >= 0) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = oldKeys[i];
                ids[slot] = oldIds[i];
            }
        }
    }
}
