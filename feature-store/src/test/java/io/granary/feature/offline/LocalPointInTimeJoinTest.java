package io.granary.feature.offline;

import static io.granary.dataset.testing.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.WriteOptions;
import io.granary.dataset.testing.SharedSpark;
import io.granary.feature.registry.DefinitionChecker;
import io.granary.feature.registry.Definitions;
import io.granary.feature.registry.Registry;
import io.granary.feature.registry.RegistryState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-process engine against a brute-force answer on random data big enough for several
 * batches and runs: every column type it writes, nulls everywhere they can be, NaNs, event time
 * ties decided by created time, integer and composite keys, a key with hundreds of entity rows.
 */
class LocalPointInTimeJoinTest {

    private static final long T0 = Instant.parse("2026-11-01T00:00:00Z").toEpochMilli() * 1000;
    private static final long HOUR = 3_600_000_000L;
    private static final long DAY = 24 * HOUR;

    @TempDir
    Path dir;

    Datasets datasets;
    String ns;
    final Random random = new Random(7);

    @BeforeEach
    void setUp() {
        datasets = Datasets.open(SharedSpark.catalog());
        ns = "local_pit_" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void tearDown() throws Exception {
        datasets.close();
    }

    /** A feature row of the brute-force answer: its key, times and values by column name. */
    record FeatureRow(Object key, Long event, long created, Map<String, Object> values) {}

    @Test
    void agreesWithABruteForceAnswerOnRandomData() throws IOException {
        Schema entitySchema = new Schema(
                Types.NestedField.required(1, "row", Types.LongType.get()),
                Types.NestedField.optional(2, "user_id", Types.LongType.get()),
                Types.NestedField.optional(3, "region", Types.StringType.get()),
                Types.NestedField.optional(4, "ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(5, "label", Types.BooleanType.get()));
        List<Record> entities = new ArrayList<>();
        for (long row = 0; row < 3000; row++) {
            Record entity = GenericRecord.create(entitySchema);
            entity.set(0, row);
            // one user with hundreds of entity rows (a bucket sorted by merging, not by insertion)
            entity.set(1, row < 400 ? Long.valueOf(7) : random.nextInt(50) == 0 ? null : (long) random.nextInt(200));
            entity.set(2, "r" + random.nextInt(4));
            entity.set(3, random.nextInt(100) == 0 ? null : time(T0 + 2 * DAY + (long) (random.nextDouble() * 8 * DAY)));
            entity.set(4, random.nextInt(3) == 0 ? null : random.nextBoolean());
            entities.add(entity);
        }
        create("entities", entitySchema, entities);

        Schema userSchema = new Schema(
                Types.NestedField.optional(1, "user_id", Types.LongType.get()),
                Types.NestedField.optional(2, "event_ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(3, "created_ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(4, "f_long", Types.LongType.get()),
                Types.NestedField.optional(5, "f_int", Types.IntegerType.get()),
                Types.NestedField.optional(6, "f_double", Types.DoubleType.get()),
                Types.NestedField.optional(7, "f_float", Types.FloatType.get()),
                Types.NestedField.optional(8, "f_bool", Types.BooleanType.get()),
                Types.NestedField.optional(9, "f_str", Types.StringType.get()),
                Types.NestedField.optional(10, "f_date", Types.DateType.get()),
                Types.NestedField.optional(11, "f_ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(12, "f_bin", Types.BinaryType.get()));
        List<Record> userRows = new ArrayList<>();
        List<FeatureRow> userAnswers = new ArrayList<>();
        for (int i = 0; i < 150_000; i++) {
            Record row = GenericRecord.create(userSchema);
            Long user = random.nextInt(100) == 0 ? null : (long) random.nextInt(250);
            // most rows on a coarse grid (many equal event times, told apart by created time), the
            // rest anywhere, and those may lack a created time
            boolean onGrid = random.nextInt(100) < 85;
            Long event = random.nextInt(100) == 0 ? null
                    : onGrid ? T0 + random.nextInt(11 * 24) * HOUR : T0 + (long) (random.nextDouble() * 11 * DAY);
            Long created = onGrid || random.nextBoolean() ? T0 + (long) (random.nextDouble() * 20 * DAY) : null;
            row.set(0, user);
            row.set(1, event == null ? null : time(event));
            row.set(2, created == null ? null : time(created));
            row.set(3, random.nextInt(10) == 0 ? null : random.nextLong());
            row.set(4, random.nextInt(10) == 0 ? null : random.nextInt());
            row.set(5, random.nextInt(10) == 0 ? null : random.nextInt(20) == 0 ? Double.NaN : random.nextGaussian());
            row.set(6, random.nextInt(10) == 0 ? null : random.nextFloat());
            row.set(7, random.nextInt(10) == 0 ? null : random.nextBoolean());
            row.set(8, random.nextInt(10) == 0 ? null : "s" + random.nextInt(1000) + "é");
            row.set(9, random.nextInt(10) == 0 ? null : LocalDate.ofEpochDay(20_000 + random.nextInt(1000)));
            row.set(10, random.nextInt(10) == 0 ? null : time(T0 + random.nextInt(1_000_000)));
            row.set(11, random.nextInt(10) == 0 ? null : ByteBuffer.wrap(new byte[] {(byte) random.nextInt(), (byte) i}));
            userRows.add(row);
            Map<String, Object> values = new HashMap<>();
            for (Types.NestedField field : userSchema.columns().subList(3, userSchema.columns().size())) {
                values.put("user_a__" + field.name(), row.getField(field.name()));
            }
            userAnswers.add(new FeatureRow(user, event, created == null ? 0 : created, values));
        }
        create("user_a", userSchema, userRows);

        // keyed by user and region, the user as a 32-bit integer column here: every event time distinct
        Schema regionSchema = new Schema(
                Types.NestedField.optional(1, "user_id", Types.IntegerType.get()),
                Types.NestedField.optional(2, "region", Types.StringType.get()),
                Types.NestedField.required(3, "event_ts", Types.TimestampType.withZone()),
                Types.NestedField.optional(4, "f_long", Types.LongType.get()));
        List<Record> regionRows = new ArrayList<>();
        List<FeatureRow> regionAnswers = new ArrayList<>();
        for (int i = 0; i < 60_000; i++) {
            Record row = GenericRecord.create(regionSchema);
            Integer user = random.nextInt(100) == 0 ? null : random.nextInt(200);
            String region = "r" + random.nextInt(5);
            long event = T0 + (long) (random.nextDouble() * 11 * DAY);
            row.set(0, user);
            row.set(1, region);
            row.set(2, time(event));
            row.set(3, (long) i);
            regionRows.add(row);
            regionAnswers.add(new FeatureRow(user == null ? null : List.of((long) user, region), event, 0,
                    Map.of("user_region__f_long", (long) i)));
        }
        create("user_region", regionSchema, regionRows);

        Path yaml = write(dir, "features.yaml",
                "entities:",
                "  - {name: user, join_key: user_id, value_type: INT64}",
                "  - {name: region, join_key: region, value_type: STRING}",
                "feature_views:",
                "  - name: user_a",
                "    entities: [user]",
                "    ttl: 1d",
                "    source: {dataset: " + ns + ".user_a, timestamp_field: event_ts, created_timestamp_field: created_ts}",
                "    features: [{name: f_long, dtype: INT64}, {name: f_int, dtype: INT32}, {name: f_double, dtype: DOUBLE},",
                "               {name: f_float, dtype: FLOAT}, {name: f_bool, dtype: BOOL}, {name: f_str, dtype: STRING},",
                "               {name: f_date, dtype: UNIX_TIMESTAMP}, {name: f_ts, dtype: UNIX_TIMESTAMP}, {name: f_bin, dtype: BYTES}]",
                "  - name: user_region",
                "    entities: [user, region]",
                "    ttl: 0",
                "    source: {dataset: " + ns + ".user_region, timestamp_field: event_ts}",
                "    features: [{name: f_long, dtype: INT64}]",
                "feature_services:",
                "  - {name: both, features: [user_a, user_region]}");
        Definitions definitions = Definitions.parse(yaml);
        Registry store = new Registry(dir.resolve("registry"));
        DefinitionChecker.check(definitions, store.load(), datasets);
        RegistryState registry = store.apply(definitions);

        DatasetName out = DatasetName.parse(ns + ".training");
        new LocalPointInTimeJoin(datasets, registry).history(DatasetRef.parse(ns + ".entities"), Optional.empty(),
                registry.resolveService("both"), true, out, Provenance.of("test", List.of()));

        Map<Long, Record> written = new HashMap<>();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(datasets.load(out)).build()) {
            rows.forEach(row -> written.put((Long) row.getField("row"), row));
        }
        assertThat(written).hasSize(entities.size());
        int matchedA = 0;
        int matchedRegion = 0;
        long expectedNaNs = 0;
        long expectedDoubleNulls = 0;
        Map<Object, List<FeatureRow>> userByKey = byKey(userAnswers);
        Map<Object, List<FeatureRow>> regionByKey = byKey(regionAnswers);
        for (Record entity : entities) {
            Record row = written.get((Long) entity.getField("row"));
            for (Types.NestedField field : entitySchema.columns()) {
                assertThat(row.getField(field.name())).as(field.name()).isEqualTo(entity.getField(field.name()));
            }
            Long user = (Long) entity.getField("user_id");
            Long ts = entity.getField("ts") == null ? null : micros((OffsetDateTime) entity.getField("ts"));
            FeatureRow a = latest(userByKey, user, ts, DAY);
            FeatureRow byRegion = latest(regionByKey, user == null ? null : List.of(user, entity.getField("region")), ts, 0);
            matchedA += a == null ? 0 : 1;
            matchedRegion += byRegion == null ? 0 : 1;
            for (String column : userAnswers.get(0).values().keySet()) {
                Object expected = a == null ? null : a.values().get(column);
                assertThat(row.getField(column)).as("row %s, %s", entity.getField("row"), column).isEqualTo(expected);
            }
            assertThat(row.getField("user_region__f_long")).as("row %s", entity.getField("row"))
                    .isEqualTo(byRegion == null ? null : byRegion.values().get("user_region__f_long"));
            Object value = row.getField("user_a__f_double");
            expectedNaNs += value instanceof Double d && d.isNaN() ? 1 : 0;
            expectedDoubleNulls += value == null ? 1 : 0;
        }
        // the random data reaches every case it is meant to
        assertThat(matchedA).isBetween(1000, 2990);
        assertThat(matchedRegion).isBetween(1000, 2990);
        assertThat(expectedNaNs).isPositive();

        // Iceberg's metrics of the written files, NaNs counted, and Spark reads the files alike
        Table table = datasets.load(out);
        int doubleId = table.schema().findField("user_a__f_double").fieldId();
        long nulls = 0;
        long nans = 0;
        for (DataFile file : table.currentSnapshot().addedDataFiles(table.io())) {
            nulls += file.nullValueCounts().get(doubleId);
            nans += file.nanValueCounts().get(doubleId);
        }
        assertThat(nulls).isEqualTo(expectedDoubleNulls);
        assertThat(nans).isEqualTo(expectedNaNs);
        // and the bounds of every file are its values' smallest and largest (readers skip files by them)
        for (String column : List.of("user_a__f_long", "user_a__f_int", "user_a__f_date", "ts", "user_region__f_long")) {
            Types.NestedField field = table.schema().findField(column);
            Comparable<Object> lowest = null;
            Comparable<Object> highest = null;
            for (DataFile file : table.currentSnapshot().addedDataFiles(table.io())) {
                Comparable<Object> lower = Conversions.fromByteBuffer(field.type(), file.lowerBounds().get(field.fieldId()));
                Comparable<Object> upper = Conversions.fromByteBuffer(field.type(), file.upperBounds().get(field.fieldId()));
                lowest = lowest == null || lower.compareTo(lowest) < 0 ? lower : lowest;
                highest = highest == null || upper.compareTo(highest) > 0 ? upper : highest;
            }
            List<Object> values = new ArrayList<>();
            try (CloseableIterable<Record> rows = IcebergGenerics.read(table).select(column).build()) {
                rows.forEach(row -> values.add(row.getField(column)));
            }
            List<Long> stored = values.stream().filter(Objects::nonNull).map(value -> toStored(value)).sorted().toList();
            assertThat(List.of(((Number) lowest).longValue(), ((Number) highest).longValue())).as(column)
                    .isEqualTo(List.of(stored.get(0), stored.get(stored.size() - 1)));
        }
        var spark = SharedSpark.session().sql("SELECT count(user_a__f_str), count(user_a__f_bin), count(user_a__f_date), "
                + "sum(CASE WHEN isnan(user_a__f_double) THEN 1 ELSE 0 END), count(label) FROM granary." + out).first();
        assertThat(spark.getLong(0)).isEqualTo(written.values().stream().filter(r -> r.getField("user_a__f_str") != null).count());
        assertThat(spark.getLong(1)).isEqualTo(written.values().stream().filter(r -> r.getField("user_a__f_bin") != null).count());
        assertThat(spark.getLong(2)).isEqualTo(written.values().stream().filter(r -> r.getField("user_a__f_date") != null).count());
        assertThat(spark.getLong(3)).isEqualTo(expectedNaNs);
        assertThat(spark.getLong(4)).isEqualTo(entities.stream().filter(r -> r.getField("label") != null).count());
    }

    /** The brute-force answer: the row with this key and the latest (event, created) at or before {@code at}, within ttl. */
    private static FeatureRow latest(Map<Object, List<FeatureRow>> rows, Object key, Long at, long ttl) {
        if (key == null || at == null) {
            return null;
        }
        FeatureRow best = null;
        for (FeatureRow row : rows.getOrDefault(key, List.of())) {
            if (row.event() == null || row.event() > at) {
                continue;
            }
            if (best == null || row.event() > best.event() || (row.event().equals(best.event()) && row.created() > best.created())) {
                best = row;
            }
        }
        return best == null || (ttl > 0 && at - best.event() > ttl) ? null : best;
    }

    private static Map<Object, List<FeatureRow>> byKey(List<FeatureRow> rows) {
        Map<Object, List<FeatureRow>> byKey = new HashMap<>();
        for (FeatureRow row : rows) {
            if (row.key() != null) {
                byKey.computeIfAbsent(row.key(), k -> new ArrayList<>()).add(row);
            }
        }
        return byKey;
    }

    private void create(String name, Schema schema, List<Record> rows) throws IOException {
        Path file = dir.resolve(name + ".parquet");
        try (FileAppender<Record> appender = Parquet.write(org.apache.iceberg.Files.localOutput(file.toFile()))
                .schema(schema).createWriterFunc(GenericParquetWriter::create).build()) {
            rows.forEach(appender::add);
        }
        datasets.create(DatasetName.parse(ns + "." + name), List.of(file), Optional.empty(), List.of(), WriteOptions.defaults(),
                Provenance.of("test", List.of()));
    }

    /** A value as Iceberg stores it in bounds: days for dates, micros for timestamps. */
    private static long toStored(Object value) {
        if (value instanceof LocalDate date) {
            return date.toEpochDay();
        }
        if (value instanceof OffsetDateTime time) {
            return micros(time);
        }
        return ((Number) value).longValue();
    }

    private static OffsetDateTime time(long micros) {
        return OffsetDateTime.ofInstant(Instant.EPOCH.plus(micros, ChronoUnit.MICROS), ZoneOffset.UTC);
    }

    private static long micros(OffsetDateTime time) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, time.toInstant());
    }
}
