package io.granary.dataset.ingest;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.iceberg.Schema;

/** An input file as rows: its columns, and its rows in batches shaped for a target schema. */
interface Source {

    SourceFile file();

    /** The column names, when they are known without reading every row (CSV header, Parquet footer). */
    Optional<List<String>> columnNames() throws IOException;

    /** The file's columns and types: declared by Parquet, inferred from every value for text. */
    Schema schema() throws IOException;

    /**
     * Reads every row, converted to {@code target}'s types, handing full batches to {@code sink}.
     * Columns of the target that the file lacks are null; a file column the target lacks fails.
     */
    void read(Schema target, Consumer<RowBatch> sink) throws IOException;

    static Source open(SourceFile file) {
        return switch (file.format()) {
            case CSV -> new CsvSource(file, ',');
            case TSV -> new CsvSource(file, '\t');
            case JSONL -> new JsonLinesSource(file);
            case PARQUET -> new ParquetSource(file);
        };
    }
}
