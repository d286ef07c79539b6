package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import io.granary.common.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * Reads input files into a table's data files: infers schemas, plans schema evolution, and
 * writes in parallel. Committing the files is the caller's business, in one Iceberg commit.
 */
public final class Ingest {

    /** Inputs smaller than this per thread are not worth another writer (and another small file). */
    private static final long BYTES_PER_THREAD = 16L << 20;

    private Ingest() {}

    /** The columns to add and widen so that {@code files} fit a dataset's schema. */
    public record SchemaChanges(Map<String, Type> added, Map<String, Type> widened) {
        public boolean isEmpty() {
            return added.isEmpty() && widened.isEmpty();
        }

        public void applyTo(UpdateSchema update) {
            added.forEach((name, type) -> update.addColumn(name, type));
            widened.forEach((name, type) -> update.updateColumn(name, type.asPrimitiveType()));
        }

        public List<String> describe() {
            List<String> lines = new ArrayList<>();
            added.forEach((name, type) -> lines.add("added column " + name + " " + TypeNames.describe(type)));
            widened.forEach((name, type) -> lines.add("widened column " + name + " to " + TypeNames.describe(type)));
            return lines;
        }
    }

    /** What a write produced: files ready to commit, and their totals. */
    public record Written(List<DataFile> files, long rows, long bytes) {}

    /** The schema of the files together: declared by Parquet, inferred from every value for text. */
    public static Schema inferSchema(List<SourceFile> files) {
        List<Schema> schemas = new ArrayList<>();
        for (SourceFile file : files) {
            schemas.add(schemaOf(Source.open(file)));
        }
        return Schemas.union(schemas);
    }

    private static Schema schemaOf(Source source) {
        try {
            return source.schema();
        } catch (IOException e) {
            throw unreadable(source.file(), e);
        }
    }

    /** Every row of {@code file} as records of {@code schema} (its values converted; a bad one fails with file, line and column). */
    public static void readRecords(SourceFile file, Schema schema, Consumer<Record> sink) {
        try {
            Source.open(file).read(schema, batch -> batch.toRecords().forEach(sink));
        } catch (IOException e) {
            throw unreadable(file, e);
        }
    }

    /**
     * The changes {@code files} need in {@code current}. Without {@code evolve} there must be none:
     * an unknown column fails here for formats whose columns are known up front, and while reading
     * otherwise. With it, new columns are added as nullable and Parquet columns may widen the
     * dataset's type (int to long, float to double).
     */
    public static SchemaChanges planChanges(List<SourceFile> files, Schema current, boolean evolve) {
        Map<String, Type> added = new LinkedHashMap<>();
        Map<String, Type> widened = new LinkedHashMap<>();
        for (SourceFile file : files) {
            Source source = Source.open(file);
            if (!evolve) {
                for (String column : columnNames(source)) {
                    if (current.findField(column) == null) {
                        throw Reconcile.unknownColumn(file, column, current);
                    }
                }
                continue;
            }
            for (Types.NestedField column : schemaOf(source).columns()) {
                Types.NestedField existing = current.findField(column.name());
                if (existing == null) {
                    added.merge(column.name(), column.type(), TypeInference::merge);
                } else if (file.format() == SourceFile.Format.PARQUET && !Promotion.canStore(column.type(), existing.type())) {
                    if (column.type().isPrimitiveType() && existing.type().isPrimitiveType()
                            && TypeUtil.isPromotionAllowed(existing.type(), column.type().asPrimitiveType())) {
                        widened.put(column.name(), column.type());
                    } else {
                        throw Promotion.mismatch(file, column.name(), existing.type(), column.type());
                    }
                }
            }
        }
        return new SchemaChanges(added, widened);
    }

    private static List<String> columnNames(Source source) {
        try {
            return source.columnNames().orElse(List.of());
        } catch (IOException e) {
            throw unreadable(source.file(), e);
        }
    }

    /**
     * Writes every row of {@code files} into new data files of {@code table} (which may be a
     * transaction's table) with {@code schema}. On any failure the files written so far are deleted.
     */
    public static Written write(Table table, Schema schema, List<SourceFile> files, int maxThreads, Progress progress) {
        long totalBytes = files.stream().mapToLong(SourceFile::size).sum();
        int threads = (int) Math.max(1, Math.min(maxThreads, totalBytes / BYTES_PER_THREAD));
        ParallelWriter writer = new ParallelWriter(table, schema, threads, progress);
        try {
            for (SourceFile file : files) {
                try {
                    Source.open(file).read(schema, writer::submit);
                } catch (IOException e) {
                    throw unreadable(file, e);
                }
            }
            List<DataFile> written = writer.finish();
            long rows = written.stream().mapToLong(DataFile::recordCount).sum();
            long bytes = written.stream().mapToLong(DataFile::fileSizeInBytes).sum();
            return new Written(written, rows, bytes);
        } catch (RuntimeException | Error e) {
            writer.abort(table);
            throw e;
        }
    }

    private static GranaryException unreadable(SourceFile file, IOException e) {
        if (e instanceof java.util.zip.ZipException) {
            return new GranaryException("cannot read " + file + ": not valid gzip (" + e.getMessage() + ")",
                    "check the file is complete, or drop the .gz extension if it is not compressed", e);
        }
        return new GranaryException("cannot read " + file + ": " + e.getMessage(), "check the file", new UncheckedIOException(e));
    }
}
