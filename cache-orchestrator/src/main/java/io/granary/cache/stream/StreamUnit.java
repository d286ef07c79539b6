package io.granary.cache.stream;

/**
 * The smallest piece of a snapshot a stream reads whole: a Parquet row group of a table's data
 * file, or a shard of a packed set.
 *
 * @param file the file's name in the snapshot (as a mount view shows it)
 * @param part the row group's index in the file (0 for a shard)
 * @param rows the rows (samples) it holds
 */
public record StreamUnit(String file, int part, long rows) {

    public StreamUnit {
        if (rows < 0) {
            throw new IllegalArgumentException("a unit cannot hold " + rows + " rows");
        }
    }
}
