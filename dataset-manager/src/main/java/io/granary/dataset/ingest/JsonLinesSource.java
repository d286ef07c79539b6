package io.granary.dataset.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.granary.common.GranaryException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
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
 * A JSON Lines file: one JSON object per line, keys naming columns. Nested objects are kept as
 * their JSON text; arrays become lists.
 */
final class JsonLinesSource implements Source {

    private final SourceFile file;

    JsonLinesSource(SourceFile file) {
        this.file = file;
    }

    @Override
    public SourceFile file() {
        return file;
    }

    @Override
    public Optional<List<String>> columnNames() {
        return Optional.empty();
    }

    /** Calls {@code action} with each non-blank line and its number. */
    private void forEachLine(LineAction action) throws IOException {
        try (BufferedReader reader = file.openText()) {
            long number = 0;
            String line;
            while (true) {
                try {
                    line = reader.readLine();
                } catch (CharacterCodingException e) {
                    throw new GranaryException(file + " near line " + (number + 1) + ": text is not valid UTF-8",
                            "convert the file to UTF-8", e);
                }
                if (line == null) {
                    break;
                }
                number++;
                if (!line.isBlank()) {
                    action.accept(line, number);
                }
            }
        }
    }

    @FunctionalInterface
    private interface LineAction {
        void accept(String line, long number) throws IOException;
    }

    static JsonNode parseObject(String line, SourceFile file, long number) {
        JsonNode node;
        try {
            node = ValueConversion.JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new GranaryException(
                    file + " line " + number + ": malformed JSON: " + e.getOriginalMessage(),
                    "each line must be one complete JSON object, e.g. {\"user_id\": 1, \"ts\": \"2026-11-28T10:00:00Z\"}");
        }
        if (!node.isObject()) {
            throw new GranaryException(file + " line " + number + ": expected a JSON object, found a JSON " + ValueConversion.jsonKind(node),
                    "each line must be one JSON object whose keys name the columns");
        }
        return node;
    }

    @Override
    public Schema schema() throws IOException {
        Map<String, Type> columns = new LinkedHashMap<>();
        long[] rows = {0};
        forEachLine((line, number) -> {
            JsonNode object = parseObject(line, file, number);
            for (Iterator<Map.Entry<String, JsonNode>> fields = object.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                Type type = TypeInference.ofJson(field.getValue());
                columns.merge(field.getKey(), type == null ? NO_EVIDENCE : type,
                        (seen, next) -> seen == NO_EVIDENCE ? next : next == NO_EVIDENCE ? seen : TypeInference.merge(seen, next));
            }
            rows[0]++;
        });
        if (rows[0] == 0) {
            throw new GranaryException("input file has no rows: " + file, "give a file with at least one JSON object");
        }
        columns.replaceAll((name, type) -> type == NO_EVIDENCE ? Types.StringType.get() : type);
        return Schemas.ofColumns(columns);
    }

    /** Marks a column seen only with null values so far. */
    private static final Type NO_EVIDENCE = Types.UnknownType.get();

    @Override
    public void read(Schema target, Consumer<RowBatch> sink) throws IOException {
        Map<String, Integer> positions = new HashMap<>();
        List<Types.NestedField> columns = target.columns();
        for (int i = 0; i < columns.size(); i++) {
            positions.put(columns.get(i).name(), i);
        }
        int[] required = Reconcile.requiredPositions(target, null, file);
        int batchRows = CsvSource.BATCH_ROWS;
        String[][] lines = {new String[batchRows]};
        long[][] numbers = {new long[batchRows]};
        int[] count = {0};
        long[] bytes = {0};
        boolean[] any = {false};
        forEachLine((line, number) -> {
            lines[0][count[0]] = line;
            numbers[0][count[0]] = number;
            bytes[0] += line.length() + 1;
            any[0] = true;
            if (++count[0] == batchRows) {
                sink.accept(new Batch(file, target, positions, required, lines[0], numbers[0], count[0], bytes[0]));
                lines[0] = new String[batchRows];
                numbers[0] = new long[batchRows];
                count[0] = 0;
                bytes[0] = 0;
            }
        });
        if (count[0] > 0) {
            sink.accept(new Batch(file, target, positions, required,
                    Arrays.copyOf(lines[0], count[0]), Arrays.copyOf(numbers[0], count[0]), count[0], bytes[0]));
        }
        if (!any[0]) {
            throw new GranaryException("input file has no rows: " + file, "give a file with at least one JSON object");
        }
    }

    private record Batch(SourceFile file, Schema target, Map<String, Integer> positions, int[] required,
                         String[] lines, long[] numbers, int rowCount, long byteCount) implements RowBatch {
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
            GenericRecord template = GenericRecord.create(target);
            List<Types.NestedField> columns = target.columns();
            List<Record> records = new ArrayList<>(rowCount);
            for (int r = 0; r < rowCount; r++) {
                JsonNode object = parseObject(lines[r], file, numbers[r]);
                Record record = template.copy();
                for (Iterator<Map.Entry<String, JsonNode>> fields = object.fields(); fields.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = fields.next();
                    Integer position = positions.get(field.getKey());
                    if (position == null) {
                        GranaryException unknown = Reconcile.unknownColumn(file, field.getKey(), target);
                        throw new GranaryException(file + " line " + numbers[r] + ": key '" + field.getKey()
                                + "' is not a column of the dataset (its columns: " + Reconcile.columnList(target) + ")", unknown.hint());
                    }
                    Type type = columns.get(position).type();
                    try {
                        record.set(position, ValueConversion.fromJson(field.getValue(), type));
                    } catch (BadValueException e) {
                        throw Reconcile.badValue(file, numbers[r], field.getKey(), type, e);
                    }
                }
                Reconcile.checkRequired(record, required, target, file, numbers[r]);
                records.add(record);
            }
            return records;
        }
    }
}
