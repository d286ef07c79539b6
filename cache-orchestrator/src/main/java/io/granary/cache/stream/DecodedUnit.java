package io.granary.cache.stream;

import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * One unit's rows, decoded and kept while a rank reads them (a shuffle buffer's window can span
 * several units). Rows are addressed by their index in the unit.
 */
interface DecodedUnit extends AutoCloseable {

    /** Fills the cleared {@code out} with rows [from, from + count) as a batch of their own, sharing buffers where it can. */
    void slice(int from, int count, VectorSchemaRoot out);

    /** Copies rows [from, from + count) into {@code out}'s allocated vectors from row {@code at} on. */
    void copy(int from, int count, VectorSchemaRoot out, int at);

    /**
     * How many of the {@code maxRows} rows from {@code from} fit a batch of about {@code maxBytes}
     * (at least one): all, unless the unit's rows are big (a packed set's members).
     */
    default int rowsWithin(int from, int maxRows, long maxBytes) {
        return maxRows;
    }

    /** The bytes of rows [from, from + count) that count towards a batch's size (0 where rows are small). */
    default long bytes(int from, int count) {
        return 0;
    }

    /** Decodes now what {@link #slice} and {@link #copy} would decode later (on a prefetching thread). */
    default void prefetch() {}

    @Override
    void close();
}
