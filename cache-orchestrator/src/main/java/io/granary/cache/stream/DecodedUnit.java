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

    /** Decodes now what {@link #slice} and {@link #copy} would decode later (on a prefetching thread). */
    default void prefetch() {}

    @Override
    void close();
}
