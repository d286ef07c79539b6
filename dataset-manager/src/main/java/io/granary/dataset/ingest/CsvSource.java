package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
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

/** A CSV (or TSV) file with a header line naming its columns. */
final class CsvSource implements Source {

    static final int BATCH_ROWS = 4096;

    private final SourceFile file;
    private final char delimiter;

    CsvSource(SourceFile file, char delimiter) {
        this.file = file;
        this.delimiter = delimiter;
    }

    @Override
    public SourceFile file() {
        return file;
    }

    private CsvParser open() throws IOException {
        return new CsvParser(file.openText(), delimiter, file.toString());
    }

    private List<String> readHeader(CsvParser parser) throws IOException {
        String[] header = parser.next();
        if (header == null) {
            throw new GranaryException("input file has no header line: " + file, "the first line names the columns, e.g. user_id,item_id,ts");
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < header.length; i++) {
            String name = header[i] == null ? "" : header[i].trim();
            if (name.isEmpty()) {
                throw new GranaryException(file + " line " + parser.recordLine() + ": column " + (i + 1) + " of the header has no name",
                        "name every column in the header line");
            }
            names.add(name);
        }
        Schemas.requireUniqueNames(names, file);
        return names;
    }

    @Override
    public Optional<List<String>> columnNames() throws IOException {
        try (CsvParser parser = open()) {
            return Optional.of(readHeader(parser));
        }
    }

    @Override
    public Schema schema() throws IOException {
        try (CsvParser parser = open()) {
            List<String> names = readHeader(parser);
            Type[] types = new Type[names.size()];
            long rows = 0;
            String[] row;
            while ((row = parser.next()) != null) {
                requireWidth(row, names.size(), parser.recordLine());
                for (int i = 0; i < row.length; i++) {
                    if (row[i] != null) {
                        types[i] = TypeInference.merge(types[i], TypeInference.ofText(row[i]));
                    }
                }
                rows++;
            }
            if (rows == 0) {
                throw new GranaryException("input file has a header but no rows: " + file,
                        "add rows, or create the dataset from a schema file with --schema");
            }
            Map<String, Type> columns = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                columns.put(names.get(i), types[i]);
            }
            return Schemas.ofColumns(columns);
        }
    }

    private void requireWidth(String[] row, int width, long line) {
        if (row.length != width) {
            throw new GranaryException(
                    file + " line " + line + ": expected " + width + " fields as in the header, found " + row.length,
                    "quote fields that contain '" + (delimiter == '\t' ? "\\t" : String.valueOf(delimiter)) + "' or line breaks, e.g. \"a, b\"");
        }
    }

    @Override
    public void read(Schema target, Consumer<RowBatch> sink) throws IOException {
        try (CsvParser parser = open()) {
            List<String> names = readHeader(parser);
            Plan plan = plan(names, target);
            String[][] rows = new String[BATCH_ROWS][];
            long[] lines = new long[BATCH_ROWS];
            int count = 0;
            long bytes = 0;
            String[] row;
            boolean any = false;
            while ((row = parser.next()) != null) {
                requireWidth(row, names.size(), parser.recordLine());
                rows[count] = row;
                lines[count] = parser.recordLine();
                for (String field : row) {
                    bytes += field == null ? 1 : field.length() + 1;
                }
                any = true;
                if (++count == BATCH_ROWS) {
                    sink.accept(new Batch(plan, rows, lines, count, bytes));
                    rows = new String[BATCH_ROWS][];
                    lines = new long[BATCH_ROWS];
                    count = 0;
                    bytes = 0;
                }
            }
            if (count > 0) {
                sink.accept(new Batch(plan, Arrays.copyOf(rows, count), Arrays.copyOf(lines, count), count, bytes));
            }
            if (!any) {
                throw new GranaryException("input file has a header but no rows: " + file, "give a file with at least one row");
            }
        }
    }

    /** Where each CSV column goes in the target, and as what type. */
    private record Plan(SourceFile file, Schema target, String[] names, int[] positions, Type[] types, int[] required) {}

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
        return new Plan(file, target, names.toArray(new String[0]), positions, types, required);
    }

    private record Batch(Plan plan, String[][] rowData, long[] lines, int rowCount, long byteCount) implements RowBatch {
        @Override
        public int rows() {
            return rowCount;
        }

        @Override
        public long bytes() {
            return byteCount;
        }

        @Override
        public List<Record> toRecords() {
            GenericRecord template = GenericRecord.create(plan.target());
            List<Record> records = new ArrayList<>(rowCount);
            for (int r = 0; r < rowCount; r++) {
                Record record = template.copy();
                String[] row = rowData[r];
                for (int c = 0; c < row.length; c++) {
                    try {
                        record.set(plan.positions()[c], ValueConversion.fromText(row[c], plan.types()[c]));
                    } catch (BadValueException e) {
                        throw Reconcile.badValue(plan.file(), lines[r], plan.names()[c], plan.types()[c], e);
                    }
                }
                Reconcile.checkRequired(record, plan.required(), plan.target(), plan.file(), lines[r]);
                records.add(record);
            }
            return records;
        }
    }
}
