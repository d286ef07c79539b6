package io.granary.dataset.ingest;

import java.util.List;
import org.apache.iceberg.data.Record;

/**
 * A batch of input rows, read by one thread and converted to records by whichever writer thread
 * takes it, so that parsing values runs in parallel with reading the file.
 */
interface RowBatch {

    /** Input bytes, for progress. */
    long bytes();

    /** Converts every row; a bad value fails with its file, line and column. */
    List<Record> toRecords();
}
