package io.granary.feature.offline;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.ResolvedRef;
import io.granary.dataset.WriteOrder;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkQueries;
import io.granary.feature.registry.Entity;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.catalyst.parser.ParseException;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Point-in-time correct training data: for each entity row (join keys and an event time), each
 * feature view gives its latest row with event time at or before the entity row's, and no older
 * than the view's ttl; equal event times are decided by the created timestamp, then by write order
 * (the last written row wins, see {@link WriteOrder}); nothing in range gives null. Never the
 * future, so training sees what serving would have seen.
 *
 * <p>Runs on Spark as a sort-based merge, one pass per set of views keyed alike: entity rows and
 * feature rows are put in one frame, partitioned by join key and sorted by (event time, feature
 * rows first, created time), and a running last-value over each key carries every view's latest
 * row forward to the entity rows after it. That is O(n log n) however long each key's history,
 * where an inequality join followed by row_number grows with the history per key. It runs in
 * Spark's generated code on its internal rows, never converting rows to Java objects.
 */
public final class PointInTimeJoin implements PointInTimeValues {

    /**
     * Table properties of the training sets both engines write: zstd at level 1 rather than 3. A
     * training set is derived data, written by one join and read whole: on `granary bench pit` level
     * 1 compresses its pages about twice as fast for files 4% larger.
     */
    static final Map<String, String> TRAINING_SET_PROPERTIES = Map.of(TableProperties.PARQUET_COMPRESSION_LEVEL, "1");

    private static final String PREFIX = "__granary_";
    private static final String ROW_TIME = PREFIX + "row_ts";
    private static final String TIME = PREFIX + "ts";
    private static final String KIND = PREFIX + "kind";
    private static final String CREATED = PREFIX + "created";
    private static final String VIEW = PREFIX + "view";
    private static final String FILE = PREFIX + "file";
    private static final String FILE_RANK = PREFIX + "file_rank";
    private static final String ROW_POSITION = PREFIX + "pos";
    private static final int FEATURE_ROW = 0;
    private static final int ENTITY_ROW = 1;

    private final SparkSession spark;
    private final RegistryState registry;

    public PointInTimeJoin(SparkSession spark, RegistryState registry) {
        this.spark = spark;
        this.registry = registry;
    }

    /** The entity rows with the features' point-in-time values added as columns, the views read at their current snapshots. */
    public Dataset<Row> join(Dataset<Row> entities, String timestampColumn, List<FeatureRef> refs, boolean fullNames) {
        return join(entities, timestampColumn, refs, fullNames, Map.of());
    }

    /**
     * The entity rows with the features' point-in-time values added as columns, each view read at
     * the snapshot {@code sourceSnapshots} gives for its name (else at its source's current one).
     */
    public Dataset<Row> join(Dataset<Row> entities, String timestampColumn, List<FeatureRef> refs, boolean fullNames,
                             Map<String, Long> sourceSnapshots) {
        StructField timestamp = field(entities.schema(), timestampColumn)
                .orElseThrow(() -> new GranaryException("the entity rows have no column '" + timestampColumn + "'",
                        "name their event time column with --timestamp-field; columns: " + String.join(", ", entities.columns())));
        if (!isTime(timestamp.dataType())) {
            throw new GranaryException("entity column '" + timestampColumn + "' is " + timestamp.dataType().simpleString() + ", not a timestamp",
                    "name a timestamp or date column with --timestamp-field");
        }
        Map<String, List<FeatureRef>> byView = new LinkedHashMap<>();
        refs.forEach(ref -> byView.computeIfAbsent(ref.view(), v -> new ArrayList<>()).add(ref));
        // Views keyed alike share one partition-and-sort pass.
        Map<List<String>, List<ViewRefs>> byKeys = new LinkedHashMap<>();
        for (Map.Entry<String, List<FeatureRef>> group : byView.entrySet()) {
            FeatureView view = registry.featureView(group.getKey());
            byKeys.computeIfAbsent(registry.joinKeys(view), k -> new ArrayList<>()).add(new ViewRefs(view, group.getValue()));
        }
        Dataset<Row> current = entities.withColumn(ROW_TIME, functions.unix_micros(functions.col(quote(timestampColumn)).cast("timestamp")));
        for (List<ViewRefs> views : byKeys.values()) {
            current = joinViews(current, views, fullNames, sourceSnapshots);
        }
        return current.drop(ROW_TIME);
    }

    private record ViewRefs(FeatureView view, List<FeatureRef> refs) {}

    /** The event-time column of a dataset: --timestamp-field if given, else event_timestamp, else its only timestamp. */
    public static String timestampColumn(StructType schema, Optional<String> given) {
        if (given.isPresent()) {
            return given.get();
        }
        if (field(schema, "event_timestamp").isPresent()) {
            return "event_timestamp";
        }
        List<String> times = Arrays.stream(schema.fields()).filter(f -> isTime(f.dataType())).map(StructField::name).toList();
        if (times.size() == 1) {
            return times.get(0);
        }
        throw new GranaryException("cannot tell which column of the entity rows is their event time"
                + (times.isEmpty() ? " (none is a timestamp)" : " (timestamps: " + String.join(", ", times) + ")"),
                "name it with --timestamp-field");
    }

    private Dataset<Row> joinViews(Dataset<Row> entities, List<ViewRefs> views, boolean fullNames, Map<String, Long> sourceSnapshots) {
        FeatureView first = views.get(0).view();
        List<String> joinKeys = new ArrayList<>();
        List<DataType> keyTypes = new ArrayList<>();
        for (String entityName : first.entities()) {
            Entity entity = registry.entity(entityName);
            if (field(entities.schema(), entity.joinKey()).isEmpty()) {
                throw new GranaryException("the entity rows have no column '" + entity.joinKey() + "', which feature view " + first.name() + " is keyed by",
                        "add the " + entityName + " entity's join key to the entity rows");
            }
            joinKeys.add(entity.joinKey());
            keyTypes.add(sparkType(entity));
        }
        List<Column> entitySide = new ArrayList<>();
        for (String column : entities.columns()) {
            entitySide.add(functions.col(quote(column)));
        }
        for (int i = 0; i < joinKeys.size(); i++) {
            entitySide.add(functions.col(quote(joinKeys.get(i))).cast(keyTypes.get(i)).as(PREFIX + "k" + i));
        }
        entitySide.add(functions.col(ROW_TIME).as(TIME));
        entitySide.add(functions.lit(ENTITY_ROW).as(KIND));
        entitySide.add(functions.lit(0L).as(CREATED));
        entitySide.add(functions.lit(-1).as(VIEW));
        entitySide.add(functions.lit(0L).as(FILE_RANK));
        entitySide.add(functions.lit(0L).as(ROW_POSITION));
        Dataset<Row> merged = entities.select(entitySide.toArray(Column[]::new));

        List<String> outputNames = new ArrayList<>();
        for (int v = 0; v < views.size(); v++) {
            FeatureView view = views.get(v).view();
            List<FeatureRef> refs = views.get(v).refs();
            for (FeatureRef ref : refs) {
                String name = ref.outputName(fullNames);
                if (field(entities.schema(), name).isPresent() || outputNames.contains(name)) {
                    throw new GranaryException("the entity rows already have a column '" + name + "'",
                            "use --full-names to name feature columns VIEW__FEATURE");
                }
                outputNames.add(name);
            }
            List<Column> featureSide = new ArrayList<>();
            for (int i = 0; i < joinKeys.size(); i++) {
                featureSide.add(functions.col(quote(joinKeys.get(i))).cast(keyTypes.get(i)).as(PREFIX + "k" + i));
            }
            featureSide.add(functions.unix_micros(functions.col(quote(view.source().timestampField())).cast("timestamp")).as(TIME));
            featureSide.add(functions.lit(FEATURE_ROW).as(KIND));
            featureSide.add(view.source().createdTimestamp()
                    .map(c -> functions.unix_micros(functions.col(quote(c)).cast("timestamp")))
                    .orElse(functions.lit(0L)).as(CREATED));
            featureSide.add(functions.lit(v).as(VIEW));
            featureSide.add(functions.col(FILE_RANK));
            featureSide.add(functions.col(ROW_POSITION));
            for (int i = 0; i < refs.size(); i++) {
                featureSide.add(functions.col(quote(refs.get(i).feature())).as(PREFIX + "v" + v + "_f" + i));
            }
            Column usable = functions.col(quote(view.source().timestampField())).isNotNull();
            for (String key : joinKeys) {
                usable = usable.and(functions.col(quote(key)).isNotNull());
            }
            Dataset<Row> source = sourceRows(view, Optional.ofNullable(sourceSnapshots.get(view.name())));
            merged = merged.unionByName(source.where(usable).select(featureSide.toArray(Column[]::new)), true);
        }

        // One window per key, in (time, feature rows first, created time, write order) order: for each
        // view, last(its row, ignoring other rows) is the latest row of that view at or before each
        // row. The write order (file rank, then position in the file) makes the order total, so that
        // of rows tied on event and created time the last written wins, on every run.
        List<Column> keyColumns = new ArrayList<>();
        for (int i = 0; i < joinKeys.size(); i++) {
            keyColumns.add(functions.col(PREFIX + "k" + i));
        }
        WindowSpec upToHere = Window.partitionBy(keyColumns.toArray(Column[]::new))
                .orderBy(functions.col(TIME), functions.col(KIND), functions.col(CREATED), functions.col(FILE_RANK), functions.col(ROW_POSITION))
                .rowsBetween(Window.unboundedPreceding(), Window.currentRow());
        List<Column> selected = new ArrayList<>();
        for (String column : entities.columns()) {
            selected.add(functions.col(quote(column)));
        }
        for (int v = 0; v < views.size(); v++) {
            List<FeatureRef> refs = views.get(v).refs();
            List<Column> fields = new ArrayList<>();
            fields.add(functions.col(TIME).as("t"));
            for (int i = 0; i < refs.size(); i++) {
                fields.add(functions.col(PREFIX + "v" + v + "_f" + i).as("f" + i));
            }
            Column row = functions.when(functions.col(VIEW).equalTo(v), functions.struct(fields.toArray(Column[]::new)));
            selected.add(functions.last(row, true).over(upToHere).as(PREFIX + "last" + v));
        }
        selected.add(functions.col(KIND));
        selected.add(functions.col(TIME));
        Dataset<Row> carried = merged.select(selected.toArray(Column[]::new)).where(functions.col(KIND).equalTo(ENTITY_ROW));

        List<Column> output = new ArrayList<>();
        for (String column : entities.columns()) {
            output.add(functions.col(quote(column)));
        }
        int named = 0;
        for (int v = 0; v < views.size(); v++) {
            long ttl = views.get(v).view().ttlSeconds() * 1_000_000L;
            Column last = functions.col(PREFIX + "last" + v);
            Column inRange = functions.col(TIME).isNotNull().and(last.isNotNull());
            if (ttl > 0) {
                inRange = inRange.and(functions.col(TIME).minus(last.getField("t")).leq(ttl));
            }
            for (int i = 0; i < views.get(v).refs().size(); i++) {
                output.add(functions.when(inRange, last.getField("f" + i)).as(outputNames.get(named++)));
            }
        }
        return carried.select(output.toArray(Column[]::new));
    }

    /**
     * A view's source rows at a snapshot (else its current one), each with its place in the write
     * order (see {@link #inWriteOrder}). Row-level deletes are applied by Iceberg's reader.
     */
    private Dataset<Row> sourceRows(FeatureView view, Optional<Long> pinned) {
        String name = CatalogSettings.NAME + "." + view.source().dataset();
        Table table;
        try {
            table = Spark3Util.loadIcebergTable(spark, name);
        } catch (ParseException | NoSuchTableException e) {
            throw GranaryException.notFound("dataset " + view.source().dataset() + " (feature view " + view.name() + "'s source) does not exist",
                    "create it, or change the view's source and apply it again");
        }
        Snapshot snapshot = pinned.map(id -> ViewJoin.snapshotOf(table, id, view)).orElse(table.currentSnapshot());
        return inWriteOrder(spark, table, name, Optional.ofNullable(snapshot));
    }

    /** The column of {@link #inWriteOrder}'s rows holding their data file's rank in the write order. */
    public static final String FILE_RANK_COLUMN = FILE_RANK;
    /** The column of {@link #inWriteOrder}'s rows holding their position in their data file. */
    public static final String POSITION_COLUMN = ROW_POSITION;

    /**
     * The rows of a table ({@code name} as Spark names it) at a snapshot, each with its place in the
     * write order: the rank of its data file ({@link WriteOrder}) in {@link #FILE_RANK_COLUMN} and its
     * position in that file in {@link #POSITION_COLUMN} (from Iceberg's {@code _file} and {@code _pos}).
     * Sorting by them puts the last written row last: the tie rule of every engine.
     */
    public static Dataset<Row> inWriteOrder(SparkSession spark, Table table, String name, Optional<Snapshot> snapshot) {
        if (snapshot.isEmpty()) {
            return spark.table(name).withColumn(FILE_RANK, functions.lit(0L)).withColumn(ROW_POSITION, functions.lit(0L));
        }
        Dataset<Row> rows = spark.sql("SELECT *, _file AS " + FILE + ", _pos AS " + ROW_POSITION + " FROM " + name
                + " VERSION AS OF " + snapshot.get().snapshotId());
        List<Row> ranks = new ArrayList<>();
        WriteOrder.of(table, snapshot).ranks().forEach((location, rank) -> ranks.add(RowFactory.create(location, (long) rank)));
        StructType rankSchema = new StructType().add(FILE + "_ranked", DataTypes.StringType, false).add(FILE_RANK, DataTypes.LongType, false);
        Dataset<Row> ranked = spark.createDataFrame(ranks, rankSchema);
        return rows.join(functions.broadcast(ranked), rows.col(FILE).equalTo(ranked.col(FILE + "_ranked")), "left")
                .drop(FILE, FILE + "_ranked");
    }

    /**
     * Each entity key's point-in-time values of all of {@code view}'s features at one time, read
     * from its source at {@code sourceSnapshot} (else its current one): as {@link
     * LocalPointInTimeJoin#valuesAt}, computed by this engine.
     */
    @Override
    public List<Object[]> valuesAt(FeatureView view, Optional<Long> sourceSnapshot, List<List<Object>> keys, long atMicros) {
        List<String> joinKeys = registry.joinKeys(view);
        StructType schema = new StructType();
        for (int k = 0; k < joinKeys.size(); k++) {
            schema = schema.add(joinKeys.get(k), sparkType(registry.entity(view.entities().get(k))), true);
        }
        schema = schema.add(PREFIX + "at", DataTypes.TimestampType, false).add(PREFIX + "row", DataTypes.LongType, false);
        java.sql.Timestamp at = java.sql.Timestamp.from(java.time.Instant.EPOCH.plus(atMicros, java.time.temporal.ChronoUnit.MICROS));
        List<Row> rows = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            Object[] values = new Object[joinKeys.size() + 2];
            for (int k = 0; k < joinKeys.size(); k++) {
                Object key = keys.get(i).get(k);
                values[k] = key instanceof java.nio.ByteBuffer buffer ? bytes(buffer) : key;
            }
            values[joinKeys.size()] = at;
            values[joinKeys.size() + 1] = (long) i;
            rows.add(RowFactory.create(values));
        }
        List<FeatureRef> refs = view.features().stream().map(feature -> new FeatureRef(view.name(), feature.name())).toList();
        Map<String, Long> pins = sourceSnapshot.map(id -> Map.of(view.name(), id)).orElse(Map.of());
        List<Row> joined = join(spark.createDataFrame(rows, schema), PREFIX + "at", refs, true, pins).collectAsList();
        Object[][] answers = new Object[keys.size()][];
        for (Row row : joined) {
            Object[] features = new Object[refs.size()];
            for (int f = 0; f < refs.size(); f++) {
                features[f] = generic(row.get(row.fieldIndex(refs.get(f).outputName(true))));
            }
            answers[(int) row.getLong(row.fieldIndex(PREFIX + "row"))] = features;
        }
        return Arrays.asList(answers);
    }

    /** A value Spark gives as Iceberg's generic records hold it (OffsetDateTime for a timestamp, a Java list, a ByteBuffer...). */
    private static Object generic(Object value) {
        if (value instanceof scala.collection.Seq<?> seq) {
            return CollectionConverters.asJava(seq).stream().map(PointInTimeJoin::generic).toList();
        } else if (value instanceof java.sql.Timestamp time) {
            return java.time.OffsetDateTime.ofInstant(time.toInstant(), java.time.ZoneOffset.UTC);
        } else if (value instanceof java.time.Instant instant) {
            return java.time.OffsetDateTime.ofInstant(instant, java.time.ZoneOffset.UTC);
        } else if (value instanceof java.sql.Date date) {
            return date.toLocalDate();
        } else if (value instanceof byte[] bytes) {
            return java.nio.ByteBuffer.wrap(bytes);
        }
        return value;
    }

    private static byte[] bytes(java.nio.ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    /**
     * `granary feature history`: joins the features to the entity rows of {@code entitiesRef} (at its
     * snapshot) and writes the result as a new dataset, with lineage to every snapshot it read.
     */
    public WriteResult history(Datasets datasets, DatasetRef entitiesRef, Optional<String> timestampField, List<FeatureRef> refs,
                               boolean fullNames, DatasetName out, Provenance provenance) {
        SparkQueries queries = new SparkQueries(spark, datasets);
        queries.requireNew(out);
        ResolvedRef resolved = datasets.resolve(entitiesRef);
        if (resolved.snapshot().isEmpty()) {
            throw new GranaryException(entitiesRef + " has no rows", "append entity rows to it first");
        }
        Dataset<Row> entities = queries.query("SELECT * FROM " + CatalogSettings.NAME + "." + entitiesRef.dataset()
                + " VERSION AS OF " + resolved.snapshot().get().snapshotId());
        String timestamp = timestampColumn(entities.schema(), timestampField);
        Dataset<Row> joined = join(entities, timestamp, refs, fullNames);
        return queries.createFrom(out, joined, List.of(), TRAINING_SET_PROPERTIES, provenance.withInputs(SparkQueries.inputsOf(joined)));
    }

    private static DataType sparkType(Entity entity) {
        return switch (entity.valueType()) {
            case INT64, INT32 -> DataTypes.LongType;
            case BOOL -> DataTypes.BooleanType;
            case BYTES -> DataTypes.BinaryType;
            default -> DataTypes.StringType;
        };
    }

    private static boolean isTime(DataType type) {
        return type instanceof TimestampType || type instanceof TimestampNTZType || type instanceof DateType;
    }

    private static Optional<StructField> field(StructType schema, String name) {
        return Arrays.stream(schema.fields()).filter(f -> f.name().equals(name)).findFirst();
    }

    private static String quote(String column) {
        return "`" + column.replace("`", "``") + "`";
    }
}
