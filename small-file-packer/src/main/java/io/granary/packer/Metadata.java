package io.granary.packer;

import io.granary.common.GranaryException;
import io.granary.dataset.ingest.Ingest;
import io.granary.dataset.ingest.SourceFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;

/**
 * Per-sample metadata from a sidecar file (CSV, TSV, JSON Lines or Parquet) with a {@code key}
 * column: its other columns, types inferred as for datasets, become columns of the index.
 */
record Metadata(Schema columns, Map<String, Record> byKey) {

    static Metadata none() {
        return new Metadata(new Schema(Types.NestedField.optional(1, "key", Types.StringType.get())), Map.of());
    }

    static Metadata load(Path file) {
        SourceFile source = SourceFile.of(file);
        Schema inferred = Ingest.inferSchema(List.of(source));
        if (inferred.findField("key") == null) {
            throw new GranaryException("metadata file " + file + " has no 'key' column",
                    "its rows are matched to samples by a 'key' column holding sample keys such as spk1/utt7; its columns are "
                            + inferred.columns().stream().map(Types.NestedField::name).toList());
        }
        List<Types.NestedField> fields = new ArrayList<>();
        for (Types.NestedField field : inferred.columns()) {
            fields.add(field.name().equals("key")
                    ? Types.NestedField.optional(field.fieldId(), "key", Types.StringType.get())
                    : Types.NestedField.optional(field.fieldId(), field.name(), field.type()));
        }
        Schema schema = new Schema(fields);
        Map<String, Record> byKey = new HashMap<>();
        Ingest.readRecords(source, schema, record -> {
            String key = (String) record.getField("key");
            if (key == null) {
                throw new GranaryException("metadata file " + file + " has a row without a key", "give every row its sample key");
            }
            if (byKey.put(key, record) != null) {
                throw new GranaryException("metadata file " + file + " has two rows for key '" + key + "'", "keep one row per sample");
            }
        });
        return new Metadata(schema, byKey);
    }
}
