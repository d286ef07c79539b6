package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.iceberg.Files;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Row groups decoded straight into Arrow vectors hold what Iceberg's own reader reads from the same file. */
class RowGroupBatchesTest {

    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "clicks", Types.IntegerType.get()),
            Types.NestedField.optional(3, "score", Types.DoubleType.get()),
            Types.NestedField.optional(4, "weight", Types.FloatType.get()),
            Types.NestedField.optional(5, "label", Types.BooleanType.get()),
            Types.NestedField.optional(6, "day", Types.DateType.get()),
            Types.NestedField.optional(7, "at", Types.TimestampType.withZone()),
            // few distinct values: dictionary-encoded pages
            Types.NestedField.optional(8, "bucket", Types.LongType.get()),
            Types.NestedField.optional(9, "country", Types.StringType.get()),
            Types.NestedField.optional(10, "text", Types.StringType.get()),
            Types.NestedField.optional(11, "blob", Types.BinaryType.get()));

    private static final OffsetDateTime EPOCH = OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

    @TempDir
    Path temp;

    @Test
    void everyRowGroupMatchesIcebergsReaderValueForValue() throws Exception {
        Path file = temp.resolve("data.parquet");
        List<Record> written = new ArrayList<>();
        Random random = new Random(42);
        OffsetDateTime start = OffsetDateTime.of(2026, 12, 1, 0, 0, 0, 0, ZoneOffset.UTC);
        try (FileAppender<Record> appender = Parquet.write(Files.localOutput(file.toFile())).schema(SCHEMA)
                .createWriterFunc(GenericParquetWriter::create).set("write.parquet.row-group-size-bytes", "65536")
                .set("write.parquet.page-size-bytes", "4096").build()) {
            for (int i = 0; i < 40_000; i++) {
                Record record = GenericRecord.create(SCHEMA);
                record.setField("id", (long) i);
                record.setField("clicks", i % 11 == 0 ? null : random.nextInt(1000));
                record.setField("score", i % 13 == 0 ? null : random.nextDouble());
                record.setField("weight", i % 7 == 0 ? null : random.nextFloat());
                record.setField("label", i % 5 == 0 ? null : random.nextBoolean());
                record.setField("day", i % 17 == 0 ? null : LocalDate.of(2026, 1, 1).plusDays(random.nextInt(300)));
                record.setField("at", i % 19 == 0 ? null : start.plus(random.nextInt(1_000_000_000), ChronoUnit.MICROS));
                record.setField("bucket", i % 23 == 0 ? null : (long) random.nextInt(4));
                record.setField("country", i % 29 == 0 ? null : List.of("FR", "DE", "JP", "", "ÉTÉ").get(random.nextInt(5)));
                record.setField("text", i % 31 == 0 ? null : "row " + i + " " + "x".repeat(random.nextInt(40)));
                byte[] blob = new byte[random.nextInt(16)];
                random.nextBytes(blob);
                record.setField("blob", i % 37 == 0 ? null : java.nio.ByteBuffer.wrap(blob));
                appender.add(record);
                written.add(record);
            }
        }
        List<Record> iceberg = new ArrayList<>();
        try (CloseableIterable<Record> records = Parquet.read(Files.localInput(file.toFile())).project(SCHEMA)
                .createReaderFunc(s -> GenericParquetReaders.buildReader(SCHEMA, s)).build()) {
            records.forEach(iceberg::add);
        }
        assertThat(iceberg).hasSize(written.size());

        int rowGroups = 0;
        int row = 0;
        try (BufferAllocator allocator = new RootAllocator();
             RowGroupBatches batches = RowGroupBatches.open(file, SCHEMA.columns()).orElseThrow()) {
            assertThat(batches.schema().getFields()).extracting(f -> f.getName()).containsExactly("id", "clicks", "score", "weight", "label",
                    "day", "at", "bucket", "country", "text", "blob");
            while (batches.hasNext()) {
                try (VectorSchemaRoot batch = batches.next(allocator)) {
                    rowGroups++;
                    for (int r = 0; r < batch.getRowCount(); r++, row++) {
                        Record expected = iceberg.get(row);
                        assertThat(batch.getVector("id").getObject(r)).isEqualTo(expected.getField("id"));
                        assertThat(batch.getVector("clicks").getObject(r)).isEqualTo(expected.getField("clicks"));
                        assertThat(batch.getVector("score").getObject(r)).isEqualTo(expected.getField("score"));
                        assertThat(batch.getVector("weight").getObject(r)).isEqualTo(expected.getField("weight"));
                        assertThat(batch.getVector("label").getObject(r)).isEqualTo(expected.getField("label"));
                        Object day = batch.getVector("day").getObject(r);
                        assertThat(day == null ? null : LocalDate.ofEpochDay((Integer) day)).isEqualTo(expected.getField("day"));
                        org.apache.arrow.vector.TimeStampMicroTZVector at = (org.apache.arrow.vector.TimeStampMicroTZVector) batch.getVector("at");
                        OffsetDateTime expectedAt = (OffsetDateTime) expected.getField("at");
                        assertThat(at.isNull(r) ? null : at.get(r))
                                .isEqualTo(expectedAt == null ? null : ChronoUnit.MICROS.between(EPOCH, expectedAt));
                        assertThat(batch.getVector("bucket").getObject(r)).isEqualTo(expected.getField("bucket"));
                        Object country = batch.getVector("country").getObject(r);
                        assertThat(country == null ? null : country.toString()).isEqualTo(expected.getField("country"));
                        Object text = batch.getVector("text").getObject(r);
                        assertThat(text == null ? null : text.toString()).isEqualTo(expected.getField("text"));
                        java.nio.ByteBuffer blob = (java.nio.ByteBuffer) expected.getField("blob");
                        byte[] expectedBlob = blob == null ? null : java.util.Arrays.copyOfRange(blob.array(), blob.arrayOffset() + blob.position(),
                                blob.arrayOffset() + blob.limit());
                        assertThat((byte[]) batch.getVector("blob").getObject(r)).isEqualTo(expectedBlob);
                    }
                }
            }
        }
        assertThat(row).isEqualTo(written.size());
        assertThat(rowGroups).isGreaterThan(1);
    }

}
