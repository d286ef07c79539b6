package io.granary.feature.offline;

/**
 * A bit set of fixed size. Unlike {@link java.util.BitSet} it keeps no count of words in use, so
 * threads filling ranges that share no 64-bit word may write it at the same time.
 */
final class Bits {

    private final long[] words;

    Bits(int size) {
        words = new long[(size + 63) >>> 6];
    }

    boolean get(int at) {
        return (words[at >>> 6] & (1L << at)) != 0;
    }

    void set(int at) {
        words[at >>> 6] |= 1L << at;
    }

    /** Clears bits [from, to). */
    void clear(int from, int to) {
        for (int at = from; at < to; ) {
            if ((at & 63) == 0 && to - at >= 64) {
                words[at >>> 6] = 0;
                at += 64;
            } else {
                words[at >>> 6] &= ~(1L << at);
                at++;
            }
        }
    }

    /** The first set bit in [from, to), or -1. */
    int nextSet(int from, int to) {
        if (from >= to) {
            return -1;
        }
        int word = from >>> 6;
        long bits = words[word] & (-1L << from);
        while (true) {
            if (bits != 0) {
                int at = (word << 6) + Long.numberOfTrailingZeros(bits);
                return at < to ? at : -1;
            }
            if (++word << 6 >= to) {
                return -1;
            }
            bits = words[word];
        }
    }

    /** How many bits are set in [from, to). */
    int count(int from, int to) {
        int count = 0;
        for (int at = from; at < to; ) {
            if ((at & 63) == 0 && to - at >= 64) {
                count += Long.bitCount(words[at >>> 6]);
                at += 64;
            } else {
                count += get(at) ? 1 : 0;
                at++;
            }
        }
        return count;
    }

    /** Bits [at, at + 8) as the low bits of an int (bits past the end read as 0). */
    int byteAt(int at) {
        int word = at >>> 6;
        int shift = at & 63;
        long bits = words[word] >>> shift;
        if (shift > 56 && word + 1 < words.length) {
            bits |= words[word + 1] << (64 - shift);
        }
        return (int) bits & 0xFF;
    }
}
