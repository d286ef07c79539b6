package io.granary.feature.offline;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.ResolvedRef;
import io.granary.dataset.WriteResult;
import io.granary.dataset.catalog.CatalogSettings;
import io.granary.dataset.spark.SparkQueries;
import io.granary.feature.registry.Entity;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;

/**
 * Point-in-time correct training data: for each entity row (join keys and an event time), each
 * feature view gives its latest row with event time at or before the entity row's, and no older
 * than the view's ttl; equal event times are decided by the created timestamp; nothing in range
 * gives null. Never the future, so training sees what serving would have seen.
 *
 * <p>Runs on Spark as a range-partitioned merge, one pass per view: entity rows and feature rows
 * are put in one frame, partitioned by join key and sorted by (key, event time, feature rows
 * first, created time), and a single pass over each partition carries the last feature row
 * forward to the entity rows after it. That is O(n log n) however long each key's history, where
 * an inequality join followed by row_number grows with the history per key.
 */
public final class PointInTimeJoin {

    private static final String PREFIX = "__granary_";
    private static final String ROW_TIME = PREFIX + "row_ts";
    private static final String TIME = PREFIX + "ts";
    private static final String KIND = PREFIX + "kind";
    private static final String CREATED = PREFIX + "created";
    private static final int FEATURE_ROW = 0;
    private static final int ENTITY_ROW = 1;

    private final SparkSession spark;
    private final RegistryState registry;

    public PointInTimeJoin(SparkSession spark, RegistryState registry) {
        this.spark = spark;
        this.registry = registry;
    }

    /** The entity rows with the features' point-in-time values added as columns. */
    public Dataset<Row> join(Dataset<Row> entities, String timestampColumn, List<FeatureRef> refs, boolean fullNames) {
        StructField timestamp = field(entities.schema(), timestampColumn)
                .orElseThrow(() -> new GranaryException("the entity rows have no column '" + timestampColumn + "'",
                        "name their event time column with --timestamp-field; columns: " + String.join(", ", entities.columns())));
        if (!isTime(timestamp.dataType())) {
            throw new GranaryException("entity column '" + timestampColumn + "' is " + timestamp.dataType().simpleString() + ", not a timestamp",
                    "name a timestamp or date column with --timestamp-field");
        }
        Map<String, List<FeatureRef>> byView = new LinkedHashMap<>();
        refs.forEach(ref -> byView.computeIfAbsent(ref.view(), v -> new ArrayList<>()).add(ref));
        Dataset<Row> current = entities.withColumn(ROW_TIME, functions.unix_micros(functions.col(quote(timestampColumn)).cast("timestamp")));
        for (Map.Entry<String, List<FeatureRef>> group : byView.entrySet()) {
            current = joinView(current, registry.featureView(group.getKey()), group.getValue(), fullNames);
        }
        return current.drop(ROW_TIME);
    }

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

    private Dataset<Row> joinView(Dataset<Row> entities, FeatureView view, List<FeatureRef> refs, boolean fullNames) {
        List<String> joinKeys = new ArrayList<>();
        List<DataType> keyTypes = new ArrayList<>();
        for (String entityName : view.entities()) {
            Entity entity = registry.entity(entityName);
            if (field(entities.schema(), entity.joinKey()).isEmpty()) {
                throw new GranaryException("the entity rows have no column '" + entity.joinKey() + "', which feature view " + view.name() + " is keyed by",
                        "add the " + entityName + " entity's join key to the entity rows");
            }
            joinKeys.add(entity.joinKey());
            keyTypes.add(sparkType(entity));
        }
        List<String> outputNames = refs.stream().map(ref -> ref.outputName(fullNames)).toList();
        for (String name : outputNames) {
            if (field(entities.schema(), name).isPresent()) {
                throw new GranaryException("the entity rows already have a column '" + name + "'",
                        "use --full-names to name feature columns VIEW__FEATURE");
            }
        }

        Dataset<Row> source = spark.table(CatalogSettings.NAME + "." + view.source().dataset());
        List<Column> featureSide = new ArrayList<>();
        List<Column> entitySide = new ArrayList<>();
        for (String column : entities.columns()) {
            entitySide.add(functions.col(quote(column)));
        }
        for (int i = 0; i < joinKeys.size(); i++) {
            featureSide.add(functions.col(quote(joinKeys.get(i))).cast(keyTypes.get(i)).as(PREFIX + "k" + i));
            entitySide.add(functions.col(quote(joinKeys.get(i))).cast(keyTypes.get(i)).as(PREFIX + "k" + i));
        }
        featureSide.add(functions.unix_micros(functions.col(quote(view.source().timestampField())).cast("timestamp")).as(TIME));
        entitySide.add(functions.col(ROW_TIME).as(TIME));
        featureSide.add(functions.lit(FEATURE_ROW).as(KIND));
        entitySide.add(functions.lit(ENTITY_ROW).as(KIND));
        featureSide.add(view.source().createdTimestamp()
                .map(c -> functions.unix_micros(functions.col(quote(c)).cast("timestamp")))
                .orElse(functions.lit(0L)).as(CREATED));
        entitySide.add(functions.lit(0L).as(CREATED));
        for (int i = 0; i < refs.size(); i++) {
            featureSide.add(functions.col(quote(refs.get(i).feature())).as(PREFIX + "f" + i));
        }
        Column usable = functions.col(quote(view.source().timestampField())).isNotNull();
        for (String key : joinKeys) {
            usable = usable.and(functions.col(quote(key)).isNotNull());
        }
        Dataset<Row> features = source.where(usable).select(featureSide.toArray(Column[]::new));
        Dataset<Row> merged = entities.select(entitySide.toArray(Column[]::new)).unionByName(features, true);

        List<Column> keyColumns = new ArrayList<>();
        for (int i = 0; i < joinKeys.size(); i++) {
            keyColumns.add(functions.col(PREFIX + "k" + i));
        }
        List<Column> order = new ArrayList<>(keyColumns);
        order.add(functions.col(TIME));
        order.add(functions.col(KIND));
        order.add(functions.col(CREATED));
        Dataset<Row> sorted = merged.repartition(keyColumns.toArray(Column[]::new)).sortWithinPartitions(order.toArray(Column[]::new));

        StructType mergedSchema = sorted.schema();
        StructType entitySchema = entities.schema();
        int[] entityPositions = new int[entitySchema.size()];
        for (int i = 0; i < entityPositions.length; i++) {
            entityPositions[i] = mergedSchema.fieldIndex(entitySchema.fields()[i].name());
        }
        int[] keyPositions = new int[joinKeys.size()];
        for (int i = 0; i < keyPositions.length; i++) {
            keyPositions[i] = mergedSchema.fieldIndex(PREFIX + "k" + i);
        }
        int[] featurePositions = new int[refs.size()];
        StructType output = entitySchema;
        for (int i = 0; i < refs.size(); i++) {
            featurePositions[i] = mergedSchema.fieldIndex(PREFIX + "f" + i);
            output = output.add(outputNames.get(i), mergedSchema.fields()[featurePositions[i]].dataType(), true);
        }
        Merge merge = new Merge(keyPositions, mergedSchema.fieldIndex(TIME), mergedSchema.fieldIndex(KIND), entityPositions,
                featurePositions, view.ttlSeconds() * 1_000_000L);
        return sorted.mapPartitions(merge, Encoders.row(output));
    }

    /** The pass over one sorted partition: each entity row takes the last feature row of its key before it, within ttl. */
    private record Merge(int[] keys, int time, int kind, int[] entityColumns, int[] featureColumns, long ttlMicros)
            implements MapPartitionsFunction<Row, Row>, Serializable {

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Iterator<>() {
                private Object[] lastKey;
                private long lastTime;
                private Object[] lastFeatures;
                private Row next = advance();

                private Row advance() {
                    while (rows.hasNext()) {
                        Row row = rows.next();
                        Object[] key = new Object[keys.length];
                        for (int i = 0; i < keys.length; i++) {
                            key[i] = row.get(keys[i]);
                        }
                        if (row.getInt(kind) == FEATURE_ROW) {
                            lastKey = key;
                            lastTime = row.getLong(time);
                            lastFeatures = new Object[featureColumns.length];
                            for (int i = 0; i < featureColumns.length; i++) {
                                lastFeatures[i] = row.get(featureColumns[i]);
                            }
                            continue;
                        }
                        Object[] values = new Object[entityColumns.length + featureColumns.length];
                        for (int i = 0; i < entityColumns.length; i++) {
                            values[i] = row.get(entityColumns[i]);
                        }
                        boolean timed = !row.isNullAt(time);
                        if (timed && lastFeatures != null && sameKey(key) && (ttlMicros == 0 || row.getLong(time) - lastTime <= ttlMicros)) {
                            System.arraycopy(lastFeatures, 0, values, entityColumns.length, featureColumns.length);
                        }
                        return RowFactory.create(values);
                    }
                    return null;
                }

                private boolean sameKey(Object[] key) {
                    for (int i = 0; i < key.length; i++) {
                        if (key[i] == null || !Objects.equals(key[i], lastKey[i])) {
                            return false;
                        }
                    }
                    return true;
                }

                @Override
                public boolean hasNext() {
                    return next != null;
                }

                @Override
                public Row next() {
                    if (next == null) {
                        throw new NoSuchElementException();
                    }
                    Row current = next;
                    next = advance();
                    return current;
                }
            };
        }
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
        return queries.createFrom(out, joined, List.of(), provenance.withInputs(SparkQueries.inputsOf(joined)));
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
