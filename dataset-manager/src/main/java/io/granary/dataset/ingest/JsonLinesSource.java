package io.granary.dataset.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
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
 * their JSON text; arrays become lists. Lines are parsed on the writer threads.
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

    /** Calls {@code action} with each non-blank line of a chunk (as a byte range) and its number. */
    static void forEachLine(ByteChunker.Chunk chunk, LineAction action) {
        byte[] data = chunk.data();
        long number = chunk.firstLine();
        int start = 0;
        for (int i = 0; i <= chunk.length(); i++) {
            if (i == chunk.length() || data[i] == '\n') {
                int end = i > start && data[i - 1] == '\r' ? i - 1 : i;
                if (!isBlank(data, start, end)) {
                    action.accept(data, start, end - start, number);
                }
                number++;
                start = i + 1;
            }
        }
    }

    private static boolean isBlank(byte[] data, int start, int end) {
        for (int i = start; i < end; i++) {
            if (data[i] != ' ' && data[i] != '\t') {
                return false;
            }
        }
        return true;
    }

    @FunctionalInterface
    interface LineAction {
        void accept(byte[] data, int offset, int length, long number);
    }

    static JsonNode parseObject(byte[] data, int offset, int length, SourceFile file, long number) {
        JsonNode node;
        try {
            node = ValueConversion.JSON.readTree(data, offset, length);
        } catch (IOException e) {
            String reason = e instanceof com.fasterxml.jackson.core.JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
            throw new GranaryException(
                    file + " line " + number + ": malformed JSON: " + reason,
                    "each line must be one complete JSON object in UTF-8, e.g. {\"user_id\": 1, \"ts\": \"2026-11-28T10:00:00Z\"}");
        }
        if (node == null || !node.isObject()) {
            throw new GranaryException(file + " line " + number + ": expected a JSON object, found "
                    + (node == null ? "nothing" : "a JSON " + ValueConversion.jsonKind(node)),
                    "each line must be one JSON object whose keys name the columns");
        }
        return node;
    }

    /** Marks a column seen only with null values so far. */
    private static final Type NO_EVIDENCE = Types.UnknownType.get();

    @Override
    public Schema schema() throws IOException {
        Map<String, Type> columns;
        try (ByteChunker chunker = new ByteChunker(file.openBytes(), false, file.toString())) {
            columns = ParallelChunks.reduce(null, chunker, slice -> {
                Map<String, Type> seen = new LinkedHashMap<>();
                forEachLine(new ByteChunker.Chunk(slice.data(), slice.end(), slice.firstLine()), (data, offset, length, number) -> {
                    JsonNode object = parseObject(data, offset, length, file, number);
                    for (Map.Entry<String, JsonNode> field : object.properties()) {
                        Type type = TypeInference.ofJson(field.getValue());
                        seen.merge(field.getKey(), type == null ? NO_EVIDENCE : type, JsonLinesSource::mergeEvidence);
                    }
                    seen.merge(ROWS, NO_EVIDENCE, (a, b) -> a);
                });
                return seen;
            }, (all, part) -> {
                part.forEach((name, type) -> all.merge(name, type, JsonLinesSource::mergeEvidence));
                return all;
            }, new LinkedHashMap<>());
        }
        if (columns.remove(ROWS) == null) {
            throw new GranaryException("input file has no rows: " + file, "give a file with at least one JSON object");
        }
        columns.replaceAll((name, type) -> type == NO_EVIDENCE ? Types.StringType.get() : type);
        return Schemas.ofColumns(columns);
    }

    /** A key no JSON object can have, marking that a part of the file had rows. */
    private static final String ROWS = "\u0000rows";

    private static Type mergeEvidence(Type seen, Type next) {
        return seen == NO_EVIDENCE ? next : next == NO_EVIDENCE ? seen : TypeInference.merge(seen, next);
    }

    @Override
    public void read(Schema target, Consumer<RowBatch> sink) throws IOException {
        Map<String, Integer> positions = new HashMap<>();
        List<Types.NestedField> columns = target.columns();
        for (int i = 0; i < columns.size(); i++) {
            positions.put(columns.get(i).name(), i);
        }
        int[] required = Reconcile.requiredPositions(target, null, file);
        boolean any = false;
        try (ByteChunker chunker = new ByteChunker(file.openBytes(), false, file.toString())) {
            ByteChunker.Chunk chunk;
            while ((chunk = chunker.next()) != null) {
                any |= hasContent(chunk);
                sink.accept(new Batch(file, target, positions, required, chunk));
            }
        }
        if (!any) {
            throw new GranaryException("input file has no rows: " + file, "give a file with at least one JSON object");
        }
    }

    private static boolean hasContent(ByteChunker.Chunk chunk) {
        for (int i = 0; i < chunk.length(); i++) {
            byte b = chunk.data()[i];
            if (b != '\n' && b != '\r' && b != ' ' && b != '\t') {
                return true;
            }
        }
        return false;
    }

    private record Batch(SourceFile file, Schema target, Map<String, Integer> positions, int[] required,
                         ByteChunker.Chunk chunk) implements RowBatch {
        @Override
        public long bytes() {
            return chunk.length();
        }

        @Override
        public List<Record> toRecords() {
            GenericRecord template = GenericRecord.create(target);
            List<Types.NestedField> columns = target.columns();
            List<Record> records = new ArrayList<>(4096);
            forEachLine(chunk, (data, offset, length, number) -> {
                JsonNode object = parseObject(data, offset, length, file, number);
                Record record = template.copy();
                for (Map.Entry<String, JsonNode> field : object.properties()) {
                    Integer position = positions.get(field.getKey());
                    if (position == null) {
                        throw new GranaryException(file + " line " + number + ": key '" + field.getKey()
                                + "' is not a column of the dataset (its columns: " + Reconcile.columnList(target) + ")",
                                "rename the key, or pass --evolve to add it to the dataset as a new nullable column");
                    }
                    Type type = columns.get(position).type();
                    try {
                        record.set(position, ValueConversion.fromJson(field.getValue(), type));
                    } catch (BadValueException e) {
                        throw Reconcile.badValue(file, number, field.getKey(), type, e);
                    }
                }
                Reconcile.checkRequired(record, required, target, file, number);
                records.add(record);
            });
            return records;
        }
    }
}
