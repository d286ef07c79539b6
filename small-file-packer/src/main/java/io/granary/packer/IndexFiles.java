package io.granary.packer;

import io.granary.common.AtomicFiles;
import io.granary.common.GranaryException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.iceberg.Files;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * The index: one Parquet file per shard under {@code index/}, rows in shard order, written with
 * Iceberg field ids so that the same files can be the data files of a Granary dataset.
 */
public final class IndexFiles {

    /** The columns every index has; metadata columns from a sidecar follow them. */
    public static final Schema BASE = new Schema(
            Types.NestedField.required(1, "key", Types.StringType.get()),
            Types.NestedField.required(2, "ext", Types.StringType.get()),
            Types.NestedField.required(3, "member", Types.StringType.get()),
            Types.NestedField.required(4, "shard", Types.StringType.get()),
            Types.NestedField.required(5, "header_offset", Types.LongType.get()),
            Types.NestedField.required(6, "offset", Types.LongType.get()),
            Types.NestedField.required(7, "size", Types.LongType.get()),
            Types.NestedField.required(8, "crc32c", Types.LongType.get()),
            Types.NestedField.required(9, "mtime", Types.TimestampType.withZone()),
            Types.NestedField.optional(10, "sha256", Types.StringType.get()));

    static final String DIRECTORY = "index";

    private IndexFiles() {}

    static String partName(int shardNumber) {
        return DIRECTORY + "/part-" + String.format("%06d", shardNumber) + ".parquet";
    }

    /** The index schema with the metadata columns added (new ids after the highest one in use). */
    static Schema withMetadata(Schema current, Schema metadata) {
        List<Types.NestedField> fields = new ArrayList<>(current.columns());
        int nextId = current.highestFieldId() + 1;
        for (Types.NestedField column : metadata.columns()) {
            if (column.name().equals("key")) {
                continue;
            }
            Types.NestedField existing = current.findField(column.name());
            if (existing != null && existing.fieldId() <= BASE.highestFieldId()) {
                throw new GranaryException("metadata column '" + column.name() + "' has the name of an index column",
                        "rename it in the metadata file; the index's own columns are " + BASE.columns().stream().map(Types.NestedField::name).toList());
            }
            if (existing == null) {
                fields.add(Types.NestedField.optional(nextId++, column.name(), column.type()));
            } else if (!existing.type().equals(column.type())) {
                throw new GranaryException("metadata column '" + column.name() + "' is " + column.type()
                        + " in this run but " + existing.type() + " in the index packed before",
                        "give the column the same type as before");
            }
        }
        return new Schema(fields);
    }

    /** Writes one shard's rows, with their metadata columns, as index/part-NNNNNN.parquet (atomically). */
    static void write(Path file, Schema schema, List<IndexRow> rows, Map<String, Record> metadata) throws IOException {
        Path temporary = AtomicFiles.temporarySibling(file);
        java.nio.file.Files.createDirectories(file.getParent());
        try {
            try (FileAppender<Record> appender = Parquet.write(Files.localOutput(temporary.toFile()))
                    .schema(schema).createWriterFunc(GenericParquetWriter::create)
                    .set("write.parquet.compression-codec", "zstd").build()) {
                GenericRecord template = GenericRecord.create(schema);
                List<Types.NestedField> extra = schema.columns().subList(BASE.columns().size(), schema.columns().size());
                for (IndexRow row : rows) {
                    Record record = template.copy();
                    record.setField("key", row.key());
                    record.setField("ext", row.extension());
                    record.setField("member", row.member());
                    record.setField("shard", row.shard());
                    record.setField("header_offset", row.headerOffset());
                    record.setField("offset", row.offset());
                    record.setField("size", row.size());
                    record.setField("crc32c", row.crc32c());
                    record.setField("mtime", OffsetDateTime.ofInstant(Instant.ofEpochMilli(row.mtimeMillis()), ZoneOffset.UTC));
                    record.setField("sha256", row.sha256());
                    Record values = metadata.get(row.key());
                    if (values != null) {
                        for (Types.NestedField column : extra) {
                            if (values.struct().field(column.name()) != null) {
                                record.setField(column.name(), values.getField(column.name()));
                            }
                        }
                    }
                    appender.add(record);
                }
            }
            AtomicFiles.commit(temporary, file);
        } finally {
            java.nio.file.Files.deleteIfExists(temporary);
        }
    }

    /** Reads the base columns of one index part. */
    static void read(Path file, Consumer<IndexRow> sink) {
        Schema projection = TypeUtil.select(BASE, BASE.columns().stream().map(Types.NestedField::fieldId).collect(java.util.stream.Collectors.toSet()));
        try (CloseableIterable<Record> records = Parquet.read(Files.localInput(file.toFile()))
                .project(projection)
                .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(projection, fileSchema))
                .build()) {
            for (Record record : records) {
                sink.accept(new IndexRow((String) record.get(0), (String) record.get(1), (String) record.get(2),
                        (String) record.get(3), (Long) record.get(4), (Long) record.get(5), (Long) record.get(6),
                        (Long) record.get(7), ((OffsetDateTime) record.get(8)).toInstant().toEpochMilli(), (String) record.get(9)));
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof GranaryException granary) {
                throw granary;
            }
            throw new GranaryException("cannot read index part " + file + ": " + e.getMessage(),
                    "the index is damaged or missing; `granary pack verify DIR` says which", e);
        }
    }
}
