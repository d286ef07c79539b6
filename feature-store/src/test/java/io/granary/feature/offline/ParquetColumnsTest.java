package io.granary.feature.offline;

import io.granary.dataset.parquet.ParquetColumns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The direct Parquet reader against Iceberg's own reader of the same files, written by Parquet's
 * writer and by DuckDB's: every column type it takes, nulls, NaNs, v1 and v2 pages, dictionaries
 * that fill up part way, several codecs, row groups and pages; and the files it must leave to
 * Iceberg's reader.
 */
class ParquetColumnsTest {

    private static final Schema SCHEMA = new Schema(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "small", Types.IntegerType.get()),
            Types.NestedField.optional(3, "key", Types.LongType.get()),
            Types.NestedField.optional(4, "score", Types.DoubleType.get()),
            Types.NestedField.optional(5, "weight", Types.FloatType.get()),
            Types.NestedField.optional(6, "flag", Types.BooleanType.get()),
            Types.NestedField.optional(7, "ts", Types.TimestampType.withZone()),
            Types.NestedField.optional(8, "day", Types.DateType.get()));

    @TempDir
    Path dir;

    @Test
    void readsWhatIcebergReads() throws IOException {
        int file = 0;
        for (ParquetProperties.WriterVersion version : ParquetProperties.WriterVersion.values()) {
            for (CompressionCodecName codec : List.of(CompressionCodecName.ZSTD, CompressionCodecName.SNAPPY,
                    CompressionCodecName.UNCOMPRESSED, CompressionCodecName.GZIP)) {
                for (boolean dictionary : List.of(true, false)) {
                    Path path = write(dir.resolve("f" + file++ + ".parquet"), parquetSchema(true), 20_000, version, codec, dictionary);
                    Optional<ParquetColumns> opened = ParquetColumns.open(org.apache.iceberg.Files.localInput(path.toFile()), SCHEMA.columns());
                    if (version == ParquetProperties.WriterVersion.PARQUET_2_0) {
                        // Parquet's v2 writer encodes integers DELTA_BINARY_PACKED: those files are Iceberg's reader's
                        assertThat(opened).as("%s %s %s", version, codec, dictionary).isEmpty();
                        continue;
                    }
                    assertThat(opened).as("%s %s %s", version, codec, dictionary).isPresent();
                    assertSameAsIceberg(path, opened.get(), 20_000);
                }
            }
        }
    }

    @Test
    void readsDuckDbsFilesAsIcebergDoes() throws Exception {
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement statement = duck.createStatement()) {
            statement.execute("CREATE TABLE t AS SELECT i::BIGINT AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 50)::INTEGER END AS small,"
                    + " CASE WHEN i % 5 = 0 THEN NULL WHEN i < 15000 THEN (i % 40)::BIGINT ELSE (hash(i) % 1000000000000)::BIGINT END AS key,"
                    + " CASE WHEN i % 11 = 0 THEN NULL WHEN i % 97 = 0 THEN 'NaN'::DOUBLE ELSE random() END AS score,"
                    + " CASE WHEN i % 13 = 0 THEN NULL ELSE random()::FLOAT END AS weight,"
                    + " CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS flag,"
                    + " CASE WHEN i % 17 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds((i * 7919) % 100000000) END AS ts,"
                    + " CASE WHEN i % 19 = 0 THEN NULL ELSE DATE '2025-01-01' + (i % 400)::INTEGER END AS day FROM range(30000) r(i)");
            String ids = "FIELD_IDS {id: 1, small: 2, key: 3, score: 4, weight: 5, flag: 6, ts: 7, day: 8}";
            for (String codec : List.of("snappy", "zstd", "uncompressed")) {
                Path path = dir.resolve("duck-" + codec + ".parquet");
                statement.execute("COPY t TO '" + path + "' (FORMAT PARQUET, " + ids + ", COMPRESSION " + codec + ", ROW_GROUP_SIZE 8000)");
                Optional<ParquetColumns> opened = ParquetColumns.open(org.apache.iceberg.Files.localInput(path.toFile()), SCHEMA.columns());
                assertThat(opened).as(codec).isPresent();
                assertSameAsIceberg(path, opened.get(), 30_000);
            }
            // DuckDB's v2 pages encode integers DELTA_BINARY_PACKED: Iceberg's reader's
            Path v2 = dir.resolve("duck-v2.parquet");
            statement.execute("COPY t TO '" + v2 + "' (FORMAT PARQUET, " + ids + ", PARQUET_VERSION v2)");
            assertThat(ParquetColumns.open(org.apache.iceberg.Files.localInput(v2.toFile()), SCHEMA.columns())).isEmpty();
        }
    }

    @Test
    void readsV2PagesOfTypesWithoutDeltaEncodings() throws IOException {
        Schema doubles = new Schema(
                Types.NestedField.optional(4, "score", Types.DoubleType.get()),
                Types.NestedField.optional(5, "weight", Types.FloatType.get()),
                Types.NestedField.optional(6, "flag", Types.BooleanType.get()));
        MessageType type = org.apache.parquet.schema.Types.buildMessage()
                .optional(PrimitiveTypeName.DOUBLE).id(4).named("score")
                .optional(PrimitiveTypeName.FLOAT).id(5).named("weight")
                .optional(PrimitiveTypeName.BOOLEAN).id(6).named("flag")
                .named("table");
        for (boolean dictionary : List.of(true, false)) {
            Path path = write(dir.resolve("v2-" + dictionary + ".parquet"), type, 15_000, ParquetProperties.WriterVersion.PARQUET_2_0,
                    CompressionCodecName.ZSTD, dictionary);
            Optional<ParquetColumns> opened = ParquetColumns.open(org.apache.iceberg.Files.localInput(path.toFile()), doubles.columns());
            assertThat(opened).isPresent();
            assertSameAsIceberg(path, doubles, opened.get(), 15_000);
        }
    }

    @Test
    void leavesOtherFilesToIceberg() throws IOException {
        // no field ids: Iceberg matches such files' columns by name mapping
        Path noIds = write(dir.resolve("no-ids.parquet"), parquetSchema(false), 100, ParquetProperties.WriterVersion.PARQUET_1_0,
                CompressionCodecName.ZSTD, true);
        assertThat(ParquetColumns.open(org.apache.iceberg.Files.localInput(noIds.toFile()), SCHEMA.columns())).isEmpty();

        Path file = write(dir.resolve("ok.parquet"), parquetSchema(true), 100, ParquetProperties.WriterVersion.PARQUET_1_0,
                CompressionCodecName.ZSTD, true);
        // a column the file lacks (added to the table later), a type promoted since, a string column
        assertThat(ParquetColumns.open(org.apache.iceberg.Files.localInput(file.toFile()),
                List.of(Types.NestedField.optional(99, "added", Types.LongType.get())))).isEmpty();
        assertThat(ParquetColumns.open(org.apache.iceberg.Files.localInput(file.toFile()),
                List.of(Types.NestedField.optional(2, "small", Types.LongType.get())))).isEmpty();
        assertThat(ParquetColumns.open(org.apache.iceberg.Files.localInput(file.toFile()),
                List.of(Types.NestedField.optional(3, "key", Types.StringType.get())))).isEmpty();
        // timestamps in milliseconds, which Iceberg's reader converts
        MessageType millis = org.apache.parquet.schema.Types.buildMessage()
                .optional(PrimitiveTypeName.INT64).as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MILLIS))
                .id(7).named("ts").named("table");
        Path millisFile = dir.resolve("millis.parquet");
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(millisFile.toUri()))
                .withConf(new Configuration(false)).withType(millis).build()) {
            writer.write(new SimpleGroupFactory(millis).newGroup().append("ts", 1_700_000_000_000L));
        }
        assertThat(ParquetColumns.open(org.apache.iceberg.Files.localInput(millisFile.toFile()),
                List.of(Types.NestedField.optional(7, "ts", Types.TimestampType.withZone())))).isEmpty();
    }

    @Test
    void aTruncatedFileFailsToOpenOrRead() throws IOException {
        Path path = write(dir.resolve("cut.parquet"), parquetSchema(true), 20_000, ParquetProperties.WriterVersion.PARQUET_1_0,
                CompressionCodecName.ZSTD, true);
        byte[] bytes = Files.readAllBytes(path);
        // a page's bytes garbled in the middle of the file: the footer still reads, the page does not
        try (RandomAccessFile garble = new RandomAccessFile(path.toFile(), "rw")) {
            garble.seek(bytes.length / 3);
            garble.write(new byte[4096]);
        }
        assertThatThrownBy(() -> {
            try (ParquetColumns reader = ParquetColumns.open(org.apache.iceberg.Files.localInput(path.toFile()), SCHEMA.columns()).get()) {
                ColumnValues[] columns = allocate(SCHEMA, 20_000);
                int at = 0;
                while (reader.hasNext()) {
                    long rows = reader.nextRows();
                    reader.read(columns, at);
                    at += (int) rows;
                }
            }
        }).isInstanceOf(Exception.class);
        Files.write(path, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> ParquetColumns.open(org.apache.iceberg.Files.localInput(path.toFile()), SCHEMA.columns()))
                .isInstanceOf(Exception.class);
    }

    @Test
    void decodesTheHybridEncodingAtEveryBitWidth() {
        Random random = new Random(5);
        for (int bitWidth = 1; bitWidth <= 32; bitWidth++) {
            int[] values = new int[1000];
            for (int i = 0; i < values.length; i++) {
                // runs of repeated values mixed with noise, as dictionary ids come
                values[i] = i % 100 < 40 ? 7 % (1 << Math.min(bitWidth, 30)) : (int) (random.nextLong() & ((1L << bitWidth) - 1));
            }
            org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder encoder =
                    new org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder(bitWidth, 64, 1 << 16,
                            org.apache.parquet.bytes.HeapByteBufferAllocator.getInstance());
            try {
                for (int value : values) {
                    encoder.writeInt(value);
                }
                java.nio.ByteBuffer encoded = encoder.toBytes().toByteBuffer();
                // the decoder reads words at a time in either byte order; the pages' buffers are little-endian
                for (java.nio.ByteOrder order : List.of(java.nio.ByteOrder.BIG_ENDIAN, java.nio.ByteOrder.LITTLE_ENDIAN)) {
                    int[] decoded = new int[values.length];
                    ParquetColumns.hybrid(encoded.duplicate().order(order), bitWidth, decoded, values.length);
                    assertThat(decoded).as("bit width %d, %s", bitWidth, order).isEqualTo(values);
                }
            } catch (IOException e) {
                throw new AssertionError(e);
            } finally {
                encoder.close();
            }
        }
    }

    private void assertSameAsIceberg(Path path, ParquetColumns reader, int rows) throws IOException {
        assertSameAsIceberg(path, SCHEMA, reader, rows);
    }

    private void assertSameAsIceberg(Path path, Schema schema, ParquetColumns reader, int rows) throws IOException {
        ColumnValues[] columns = allocate(schema, rows + 64);
        int at = 64;
        int groups = 0;
        try (reader) {
            while (reader.hasNext()) {
                long groupRows = reader.nextRows();
                reader.read(columns, at);
                at += (int) groupRows;
                groups++;
            }
        }
        assertThat(groups).as("row groups").isGreaterThan(1);
        List<Record> expected = new ArrayList<>();
        try (CloseableIterable<Record> records = Parquet.read(org.apache.iceberg.Files.localInput(path.toFile())).project(schema)
                .createReaderFunc(type -> GenericParquetReaders.buildReader(schema, type)).build()) {
            records.forEach(expected::add);
        }
        assertThat(at - 64).isEqualTo(expected.size());
        for (int row = 0; row < expected.size(); row++) {
            for (int c = 0; c < columns.length; c++) {
                assertThat(columns[c].get(64 + row)).as("row %d column %s of %s", row, schema.columns().get(c).name(), path.getFileName())
                        .isEqualTo(expected.get(row).get(c));
            }
        }
    }

    private static ColumnValues[] allocate(Schema schema, int rows) {
        ColumnValues[] columns = new ColumnValues[schema.columns().size()];
        for (int c = 0; c < columns.length; c++) {
            columns[c] = ColumnValues.allocate(schema.columns().get(c).type(), rows);
        }
        return columns;
    }

    private static MessageType parquetSchema(boolean ids) {
        org.apache.parquet.schema.Types.MessageTypeBuilder builder = org.apache.parquet.schema.Types.buildMessage();
        builder.required(PrimitiveTypeName.INT64).id(ids ? 1 : 0).named("id");
        builder.optional(PrimitiveTypeName.INT32).id(ids ? 2 : 0).named("small");
        builder.optional(PrimitiveTypeName.INT64).id(ids ? 3 : 0).named("key");
        builder.optional(PrimitiveTypeName.DOUBLE).id(ids ? 4 : 0).named("score");
        builder.optional(PrimitiveTypeName.FLOAT).id(ids ? 5 : 0).named("weight");
        builder.optional(PrimitiveTypeName.BOOLEAN).id(ids ? 6 : 0).named("flag");
        builder.optional(PrimitiveTypeName.INT64).as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MICROS))
                .id(ids ? 7 : 0).named("ts");
        builder.optional(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.dateType()).id(ids ? 8 : 0).named("day");
        MessageType type = builder.named("table");
        if (!ids) {
            // built without ids: id 0 is still an id, so strip them
            return new MessageType("table", type.getFields().stream().map(field -> (org.apache.parquet.schema.Type)
                    org.apache.parquet.schema.Types.primitive(field.asPrimitiveType().getPrimitiveTypeName(), field.getRepetition())
                            .as(field.getLogicalTypeAnnotation()).named(field.getName())).toList());
        }
        return type;
    }

    /**
     * Random rows, a quarter of optional values null (some pages all null or none), keys from a
     * small set at first and a large one later (so a dictionary fills up and falls back to PLAIN),
     * small pages and row groups; columns absent from {@code type} are left out.
     */
    private static Path write(Path path, MessageType type, int rows, ParquetProperties.WriterVersion version, CompressionCodecName codec,
                              boolean dictionary) throws IOException {
        Random random = new Random(path.getFileName().toString().hashCode());
        SimpleGroupFactory groups = new SimpleGroupFactory(type);
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(path.toUri()))
                .withConf(new Configuration(false)).withType(type).withWriterVersion(version).withCompressionCodec(codec)
                .withDictionaryEncoding(dictionary).withDictionaryPageSize(4096).withPageSize(2048).withPageRowCountLimit(700)
                .withRowGroupSize(64 * 1024L).build()) {
            for (int row = 0; row < rows; row++) {
                Group group = groups.newGroup();
                boolean nullRun = row % 3000 < 800;
                for (org.apache.parquet.schema.Type field : type.getFields()) {
                    if (field.isRepetition(org.apache.parquet.schema.Type.Repetition.OPTIONAL)
                            && (nullRun && row % 3000 < 400 || random.nextInt(4) == 0)) {
                        continue;
                    }
                    switch (field.getName()) {
                        case "id" -> group.append("id", (long) row);
                        case "small" -> group.append("small", random.nextInt(50) - 25);
                        case "key" -> group.append("key", row < rows / 2 ? (long) random.nextInt(40) : random.nextLong());
                        case "score" -> group.append("score", random.nextInt(50) == 0 ? Double.NaN : random.nextGaussian());
                        case "weight" -> group.append("weight", random.nextInt(50) == 0 ? Float.NaN : random.nextFloat());
                        case "flag" -> group.append("flag", random.nextBoolean());
                        case "ts" -> group.append("ts", 1_700_000_000_000_000L + random.nextInt(1_000_000) * 1_000_000L);
                        default -> group.append("day", 19_000 + random.nextInt(400));
                    }
                }
                writer.write(group);
            }
        }
        return path;
    }
}
