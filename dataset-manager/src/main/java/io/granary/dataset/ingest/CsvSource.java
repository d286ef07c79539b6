package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * A CSV (or TSV) file with a header line naming its columns. The reading thread only cuts the
 * bytes into chunks of whole records; writer threads parse and convert them.
 */
final class CsvSource implements Source {

    private final SourceFile file;
    private final byte delimiter;

    CsvSource(SourceFile file, char delimiter) {
        this.file = file;
        this.delimiter = (byte) delimiter;
    }

    @Override
    public SourceFile file() {
        return file;
    }

    /** The first chunk with its header parsed: the names, and where the rows start. */
    private record Start(List<String> names, ByteChunker.Chunk chunk, int rowsOffset, long rowsLine) {
        boolean hasRowsInChunk() {
            for (int i = rowsOffset; i < chunk.length(); i++) {
                byte b = chunk.data()[i];
                if (b != '\n' && b != '\r') {
                    return true;
                }
            }
            return false;
        }
    }

    private Start readHeader(ByteChunker chunker) throws IOException {
        ByteChunker.Chunk first = chunker.next();
        CsvRecords records = first == null ? null : new CsvRecords(first.data(), 0, first.length(), first.firstLine(), delimiter, file);
        if (records == null || !records.next()) {
            throw new GranaryException("input file has no header line: " + file, "the first line names the columns, e.g. user_id,item_id,ts");
        }
        String[] header = records.texts();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < header.length; i++) {
            String name = header[i] == null ? "" : header[i].trim();
            if (name.isEmpty()) {
                throw new GranaryException(file + " line " + records.line() + ": column " + (i + 1) + " of the header has no name",
                        "name every column in the header line");
            }
            names.add(name);
        }
        Schemas.requireUniqueNames(names, file);
        return new Start(names, first, records.position(), records.nextLine());
    }

    @Override
    public Optional<List<String>> columnNames() throws IOException {
        try (ByteChunker chunker = new ByteChunker(file.openBytes(), true, file.toString())) {
            return Optional.of(readHeader(chunker).names());
        }
    }

    /** Column types seen in part of a file, and how many rows that part had. */
    private record Seen(Type[] types, long rows) {
        Seen merge(Seen other) {
            Type[] merged = types.clone();
            for (int i = 0; i < merged.length; i++) {
                merged[i] = TypeInference.merge(merged[i], other.types[i]);
            }
            return new Seen(merged, rows + other.rows);
        }
    }

    @Override
    public Schema schema() throws IOException {
        try (ByteChunker chunker = new ByteChunker(file.openBytes(), true, file.toString())) {
            Start start = readHeader(chunker);
            int width = start.names().size();
            ParallelChunks.Slice first = new ParallelChunks.Slice(start.chunk().data(), start.rowsOffset(), start.chunk().length(), start.rowsLine());
            Seen seen = ParallelChunks.reduce(first, chunker, slice -> {
                Type[] types = new Type[width];
                long rows = 0;
                CsvRecords records = new CsvRecords(slice.data(), slice.offset(), slice.end(), slice.firstLine(), delimiter, file);
                while (records.next()) {
                    requireWidth(records, width);
                    for (int i = 0; i < width; i++) {
                        String text = records.text(i);
                        if (text != null) {
                            types[i] = TypeInference.merge(types[i], TypeInference.ofText(text));
                        }
                    }
                    rows++;
                }
                return new Seen(types, rows);
            }, Seen::merge, new Seen(new Type[width], 0));
            if (seen.rows() == 0) {
                throw new GranaryException("input file has a header but no rows: " + file,
                        "add rows, or create the dataset from a schema file with --schema");
            }
            Map<String, Type> columns = new LinkedHashMap<>();
            for (int i = 0; i < width; i++) {
                columns.put(start.names().get(i), seen.types()[i]);
            }
            return Schemas.ofColumns(columns);
        }
    }

    private void requireWidth(CsvRecords records, int width) {
        if (records.fieldCount() != width) {
            throw new GranaryException(
                    file + " line " + records.line() + ": expected " + width + " fields as in the header, found " + records.fieldCount(),
                    "quote fields that contain '" + (delimiter == '\t' ? "\\t" : String.valueOf((char) delimiter)) + "' or line breaks, e.g. \"a, b\"");
        }
    }

    @Override
    public void read(Schema target, Consumer<RowBatch> sink) throws IOException {
        try (ByteChunker chunker = new ByteChunker(file.openBytes(), true, file.toString())) {
            Start start = readHeader(chunker);
            Plan plan = plan(start.names(), target);
            boolean any = start.hasRowsInChunk();
            if (any) {
                sink.accept(new Batch(plan, start.chunk().data(), start.rowsOffset(), start.chunk().length(), start.rowsLine()));
            }
            ByteChunker.Chunk chunk;
            while ((chunk = chunker.next()) != null) {
                any = true;
                sink.accept(new Batch(plan, chunk.data(), 0, chunk.length(), chunk.firstLine()));
            }
            if (!any) {
                throw new GranaryException("input file has a header but no rows: " + file, "give a file with at least one row");
            }
        }
    }

    /** Where each CSV column goes in the target, and as what type. */
    private record Plan(CsvSource source, Schema target, String[] names, int[] positions, Type[] types, int[] required) {}

    private Plan plan(List<String> names, Schema target) {
        List<Types.NestedField> columns = target.columns();
        int[] positions = new int[names.size()];
        Type[] types = new Type[names.size()];
        for (int i = 0; i < names.size(); i++) {
            Types.NestedField field = target.findField(names.get(i));
            if (field == null) {
                throw Reconcile.unknownColumn(file, names.get(i), target);
            }
            positions[i] = columns.indexOf(field);
            types[i] = field.type();
        }
        int[] required = Reconcile.requiredPositions(target, names, file);
        return new Plan(this, target, names.toArray(new String[0]), positions, types, required);
    }

    private record Batch(Plan plan, byte[] data, int offset, int end, long firstLine) implements RowBatch {
        @Override
        public long bytes() {
            return end - offset;
        }

        @Override
        public List<Record> toRecords() {
            CsvSource source = plan.source();
            CsvRecords records = new CsvRecords(data, offset, end, firstLine, source.delimiter, source.file);
            GenericRecord template = GenericRecord.create(plan.target());
            int width = plan.names().length;
            List<Record> converted = new ArrayList<>(4096);
            while (records.next()) {
                source.requireWidth(records, width);
                Record record = template.copy();
                for (int c = 0; c < width; c++) {
                    Type type = plan.types()[c];
                    try {
                        record.set(plan.positions()[c], records.value(c, type));
                    } catch (BadValueException e) {
                        throw Reconcile.badValue(source.file, records.line(), plan.names()[c], type, e, records.text(c));
                    }
                }
                Reconcile.checkRequired(record, plan.required(), plan.target(), source.file, records.line());
                converted.add(record);
            }
            return converted;
        }
    }
}
