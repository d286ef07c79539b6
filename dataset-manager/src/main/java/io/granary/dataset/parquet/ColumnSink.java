package io.granary.dataset.parquet;

import java.nio.ByteBuffer;

/**
 * Where {@link ParquetColumns} decodes one column's values: rows are addressed by position, nulls
 * marked first, then values put at the present rows, PLAIN-encoded or through a dictionary (itself
 * a sink of the same kind, filled from the dictionary page).
 *
 * @param <S> the sink's own type, which its dictionaries have too
 */
public interface ColumnSink<S extends ColumnSink<S>> {

    /** An empty sink of this one's type with room for {@code size} values (a dictionary's). */
    S emptyLike(int size);

    /** Marks rows [at, at + count) present. */
    void markPresent(int at, int count);

    /** Marks rows [at, at + count) null where their definition level is 0, present where 1; returns how many are null. */
    int markNulls(int at, int[] levels, int count);

    /**
     * Puts PLAIN-encoded values (little-endian, booleans a bit each) at the present rows of
     * [at, at + count), of which {@code nullCount} are null (marked before).
     */
    void putPlain(int at, int count, ByteBuffer values, int nullCount);

    /**
     * Puts {@code dictionary}'s value at each id of {@code ids} at the present rows of
     * [at, at + count), of which {@code nullCount} are null (marked before).
     */
    void putDictionary(int at, int count, S dictionary, int[] ids, int nullCount);
}
