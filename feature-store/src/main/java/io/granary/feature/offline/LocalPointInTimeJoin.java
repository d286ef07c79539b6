package io.granary.feature.offline;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.Provenance;
import io.granary.dataset.ResolvedRef;
import io.granary.dataset.WriteResult;
import io.granary.feature.registry.Entity;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;
import org.apache.iceberg.arrow.vectorized.ArrowReader;
import org.apache.iceberg.arrow.vectorized.ColumnarBatch;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.CloseableIterator;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The point-in-time join of {@link PointInTimeJoin}, with the same semantics, run inside this
 * process for what fits one machine: each feature view is read column by column (Arrow), its rows
 * bucketed by entity key and sorted by (event time, created time), and each entity row finds its
 * view's latest row by binary search in its key's bucket. No Spark start, no shuffle.
 */
public final class LocalPointInTimeJoin {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LocalPointInTimeJoin.class);

    private static final int BATCH_ROWS = 64 * 1024;

    private final Datasets datasets;
    private final RegistryState registry;

    public LocalPointInTimeJoin(Datasets datasets, RegistryState registry) {
        this.datasets = datasets;
        this.registry = registry;
    }

    /** Why this join must run on Spark instead (a column type or delete files the local engine does not read), if it must. */
    public Optional<String> unsupported(DatasetRef entitiesRef, List<FeatureRef> refs) {
        ResolvedRef entities = datasets.resolve(entitiesRef);
        for (Types.NestedField column : entities.schema().columns()) {
            if (!ColumnValues.supports(column.type())) {
                return Optional.of("column " + column.name() + " of " + entitiesRef.dataset() + " is " + column.type());
            }
        }
        if (entities.snapshot().isPresent()) {
            try (CloseableIterable<FileScanTask> tasks = entities.table().newScan().useSnapshot(entities.snapshot().get().snapshotId()).planFiles()) {
                for (FileScanTask task : tasks) {
                    if (!task.deletes().isEmpty()) {
                        return Optional.of(entitiesRef.dataset() + " has row-level deletes");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (FeatureView view : views(refs).keySet()) {
            Table table = datasets.load(view.source().dataset());
            for (Types.NestedField column : table.schema().columns()) {
                boolean used = registry.joinKeys(view).contains(column.name()) || column.name().equals(view.source().timestampField())
                        || view.source().createdTimestamp().map(column.name()::equals).orElse(false)
                        || view.features().stream().anyMatch(f -> f.name().equals(column.name()));
                if (used && !ColumnValues.supports(column.type())) {
                    return Optional.of("column " + column.name() + " of " + view.source().dataset() + " is " + column.type());
                }
            }
            if (table.currentSnapshot() != null) {
                try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
                    for (FileScanTask task : tasks) {
                        if (!task.deletes().isEmpty()) {
                            return Optional.of(view.source().dataset() + " has row-level deletes");
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return Optional.empty();
    }

    /** Writes the entity rows of {@code entitiesRef} with the features' point-in-time values as a new dataset. */
    public WriteResult history(DatasetRef entitiesRef, Optional<String> timestampField, List<FeatureRef> refs, boolean fullNames,
                               DatasetName out, Provenance provenance) {
        if (datasets.exists(out)) {
            throw GranaryException.alreadyExists("dataset " + out + " already exists", "choose another --out, or drop it first");
        }
        unsupported(entitiesRef, refs).ifPresent(why -> {
            throw new GranaryException("the in-process engine cannot run this join: " + why, "use --engine spark");
        });
        long started = System.nanoTime();
        ResolvedRef resolved = datasets.resolve(entitiesRef);
        Snapshot snapshot = resolved.snapshot().orElseThrow(() ->
                new GranaryException(entitiesRef + " has no rows", "append entity rows to it first"));
        Schema entitySchema = resolved.schema();
        String timestamp = timestampColumn(entitySchema, timestampField);
        Map<FeatureView, List<FeatureRef>> views = views(refs);
        Map<FeatureView, int[]> keyFieldsByView = new LinkedHashMap<>();
        List<Types.NestedField> outputFields = new ArrayList<>();
        int id = 1;
        for (Types.NestedField column : entitySchema.columns()) {
            outputFields.add(Types.NestedField.of(id++, column.isOptional(), column.name(), column.type(), column.doc()));
        }
        for (Map.Entry<FeatureView, List<FeatureRef>> group : views.entrySet()) {
            FeatureView view = group.getKey();
            List<String> joinKeys = registry.joinKeys(view);
            int[] keyFields = new int[joinKeys.size()];
            for (int k = 0; k < joinKeys.size(); k++) {
                if (entitySchema.findField(joinKeys.get(k)) == null) {
                    throw new GranaryException("the entity rows have no column '" + joinKeys.get(k) + "', which feature view " + view.name()
                            + " is keyed by", "add the " + view.entities().get(k) + " entity's join key to the entity rows");
                }
                keyFields[k] = position(entitySchema, joinKeys.get(k));
            }
            keyFieldsByView.put(view, keyFields);
            Schema source = datasets.load(view.source().dataset()).schema();
            for (FeatureRef ref : group.getValue()) {
                String name = ref.outputName(fullNames);
                if (outputFields.stream().anyMatch(field -> field.name().equals(name))) {
                    throw new GranaryException("the entity rows already have a column '" + name + "'",
                            "use --full-names to name feature columns VIEW__FEATURE");
                }
                outputFields.add(Types.NestedField.optional(id++, name, source.findField(ref.feature()).type()));
            }
        }

        // A feature row later than the last entity row, or older than the first one by more than the
        // view's ttl, can match no entity row: the views are read within that window (Feast's offline
        // stores filter the same way), known before reading from the entity files' column bounds.
        Optional<long[]> entityTimes = timeBounds(resolved.table(), snapshot.snapshotId(), entitySchema.findField(timestamp));

        // the entity rows and every view are read at once, one per core; then each view's matches
        ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), runnable -> {
            Thread thread = new Thread(runnable, "granary-history-read");
            thread.setDaemon(true);
            return thread;
        });
        List<String> inputs = new ArrayList<>(List.of(resolved.pinned()));
        List<ColumnValues> outputValues = new ArrayList<>();
        EntityRows entities;
        try {
            Future<EntityRows> entityRows = pool.submit(() -> {
                EntityRows rows = EntityRows.read(resolved.table(), snapshot.snapshotId(), entitySchema);
                LOG.debug("read {} entity rows in {} ms", rows.size(), (System.nanoTime() - started) / 1_000_000);
                return rows;
            });
            Map<FeatureView, Future<ViewRows>> viewRows = new LinkedHashMap<>();
            for (Map.Entry<FeatureView, List<FeatureRef>> group : views.entrySet()) {
                viewRows.put(group.getKey(), pool.submit(() -> {
                    long viewStart = System.nanoTime();
                    long ttl = group.getKey().ttlSeconds() * 1_000_000L;
                    long from = entityTimes.isEmpty() || ttl <= 0 ? Long.MIN_VALUE : entityTimes.get()[0] - ttl;
                    long to = entityTimes.isEmpty() ? Long.MAX_VALUE : entityTimes.get()[1];
                    ViewRows rows = ViewRows.read(datasets, registry, group.getKey(), group.getValue(), from, to);
                    LOG.debug("view {}: {} rows read and sorted in {} ms", group.getKey().name(), rows.order().length,
                            (System.nanoTime() - viewStart) / 1_000_000);
                    return rows;
                }));
            }
            entities = await(entityRows);
            int timeField = position(entitySchema, timestamp);
            long[] rowTimes = new long[entities.size()];
            boolean[] entityTimeNull = new boolean[entities.size()];
            ColumnValues times = entities.column(timeField);
            for (int i = 0; i < entities.size(); i++) {
                entityTimeNull[i] = times.isNull(i);
                rowTimes[i] = entityTimeNull[i] ? 0 : times.micros(i);
            }
            // each view's matches, and its feature columns gathered into entity row order by them: one tight
            // loop a column, whose random reads overlap, rather than one scattered read a cell while writing
            Map<FeatureView, Future<List<ColumnValues>>> matches = new LinkedHashMap<>();
            for (Map.Entry<FeatureView, Future<ViewRows>> view : viewRows.entrySet()) {
                ViewRows rows = await(view.getValue());
                rows.pinned().ifPresent(inputs::add);
                int[] keyFields = keyFieldsByView.get(view.getKey());
                long ttl = view.getKey().ttlSeconds() * 1_000_000L;
                EntityRows all = entities;
                matches.put(view.getKey(), pool.submit(() -> {
                    int[] matched = rows.match(all, keyFields, rowTimes, entityTimeNull, ttl);
                    List<ColumnValues> gathered = new ArrayList<>();
                    for (int f = 0; f < rows.features().length; f++) {
                        gathered.add(rows.values(f).gather(matched));
                    }
                    return gathered;
                }));
            }
            for (FeatureView view : views.keySet()) {
                outputValues.addAll(await(matches.get(view)));
            }
        } finally {
            pool.shutdownNow();
        }
        Schema outputSchema = new Schema(outputFields);
        long writeStart = System.nanoTime();
        int entityColumns = entitySchema.columns().size();
        WriteResult result = datasets.createFromFiles(out, outputSchema,
                table -> write(table, entities, entityColumns, outputValues), provenance.withInputs(inputs));
        LOG.debug("wrote {} rows in {} ms", result.rowsWritten(), (System.nanoTime() - writeStart) / 1_000_000);
        return result;
    }

    /**
     * The earliest and latest value of a time column in micros, from the column bounds Iceberg
     * keeps per data file (at least as wide as the values); empty when a file has none.
     */
    static Optional<long[]> timeBounds(Table table, long snapshotId, Types.NestedField field) {
        long[] bounds = {Long.MAX_VALUE, Long.MIN_VALUE};
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshotId).includeColumnStats().planFiles()) {
            for (FileScanTask task : tasks) {
                if (!widen(bounds, task.file(), field)) {
                    return Optional.empty();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bounds[0] > bounds[1]) {
            return Optional.empty();
        }
        long unit = field.type().typeId() == Type.TypeID.DATE ? 86_400_000_000L : 1;
        return Optional.of(new long[] {bounds[0] * unit, bounds[1] * unit});
    }

    /**
     * Widens {bounds[0], bounds[1]} to take in a data file's bounds of an integer, long, date or
     * timestamp column (as stored: days, micros); false when the file keeps none.
     */
    private static boolean widen(long[] bounds, DataFile file, Types.NestedField field) {
        Map<Integer, ByteBuffer> lower = file.lowerBounds();
        Map<Integer, ByteBuffer> upper = file.upperBounds();
        if (lower == null || upper == null || lower.get(field.fieldId()) == null || upper.get(field.fieldId()) == null) {
            return false;
        }
        bounds[0] = Math.min(bounds[0], ((Number) Conversions.fromByteBuffer(field.type(), lower.get(field.fieldId()))).longValue());
        bounds[1] = Math.max(bounds[1], ((Number) Conversions.fromByteBuffer(field.type(), upper.get(field.fieldId()))).longValue());
        return true;
    }

    /** The refs by view, views keyed alike next to each other: the column order of the Spark engine's output. */
    private Map<FeatureView, List<FeatureRef>> views(List<FeatureRef> refs) {
        Map<FeatureView, List<FeatureRef>> byView = new LinkedHashMap<>();
        for (FeatureRef ref : refs) {
            byView.computeIfAbsent(registry.featureView(ref.view()), v -> new ArrayList<>()).add(ref);
        }
        Map<List<String>, List<FeatureView>> byKeys = new LinkedHashMap<>();
        byView.keySet().forEach(view -> byKeys.computeIfAbsent(registry.joinKeys(view), k -> new ArrayList<>()).add(view));
        Map<FeatureView, List<FeatureRef>> ordered = new LinkedHashMap<>();
        byKeys.values().forEach(views -> views.forEach(view -> ordered.put(view, byView.get(view))));
        return ordered;
    }


    private static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted", "run it again");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Writes the output rows in as many files as there are cores, one thread each. */
    private static List<DataFile> write(Table table, EntityRows entities, int entityColumns, List<ColumnValues> values) {
        int threads = (int) Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), entities.size() / 100_000));
        ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "granary-history-write");
            thread.setDaemon(true);
            return thread;
        });
        List<DataFile> written = new ArrayList<>();
        try {
            List<Future<DataFile>> parts = new ArrayList<>();
            int per = (entities.size() + threads - 1) / threads;
            for (int t = 0; t < threads; t++) {
                int from = t * per;
                int to = Math.min(entities.size(), from + per);
                parts.add(pool.submit(() -> writeRows(table, entities, from, to, entityColumns, values)));
            }
            for (Future<DataFile> part : parts) {
                written.add(part.get());
            }
            return written;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while writing", "run it again");
        } catch (ExecutionException e) {
            written.forEach(file -> table.io().deleteFile(file.location()));
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static DataFile writeRows(Table table, EntityRows entities, int from, int to, int entityColumns,
                                      List<ColumnValues> values) throws IOException {
        List<ColumnValues> columns = new ArrayList<>();
        for (int c = 0; c < entityColumns; c++) {
            columns.add(entities.column(c));
        }
        columns.addAll(values);
        String location = table.locationProvider().newDataLocation(UUID.randomUUID() + ".parquet");
        OutputFile file = table.io().newOutputFile(location);
        FileAppender<Integer> appender = Parquet.write(file).forTable(table).createWriterFunc(type -> new OutputRows(type, columns)).build();
        try (appender) {
            for (int i = from; i < to; i++) {
                appender.add(i);
            }
        }
        return DataFiles.builder(table.spec()).withPath(location).withFormat(FileFormat.PARQUET)
                .withFileSizeInBytes(appender.length()).withMetrics(appender.metrics()).build();
    }

    /** The entity rows' event-time column: the given one, else event_timestamp, else their only timestamp or date column. */
    static String timestampColumn(Schema schema, Optional<String> given) {
        if (given.isPresent()) {
            Types.NestedField field = schema.findField(given.get());
            if (field == null) {
                throw new GranaryException("the entity rows have no column '" + given.get() + "'",
                        "name their event time column with --timestamp-field; columns: "
                                + String.join(", ", schema.columns().stream().map(Types.NestedField::name).toList()));
            }
            if (!isTime(field.type())) {
                throw new GranaryException("entity column '" + given.get() + "' is " + field.type() + ", not a timestamp",
                        "name a timestamp or date column with --timestamp-field");
            }
            return given.get();
        }
        if (schema.findField("event_timestamp") != null) {
            return "event_timestamp";
        }
        List<String> times = schema.columns().stream().filter(f -> isTime(f.type())).map(Types.NestedField::name).toList();
        if (times.size() == 1) {
            return times.get(0);
        }
        throw new GranaryException("cannot tell which column of the entity rows is their event time"
                + (times.isEmpty() ? " (none is a timestamp)" : " (timestamps: " + String.join(", ", times) + ")"),
                "name it with --timestamp-field");
    }

    private static boolean isTime(Type type) {
        return type.typeId() == Type.TypeID.TIMESTAMP || type.typeId() == Type.TypeID.DATE;
    }

    private static int position(Schema schema, String column) {
        List<Types.NestedField> columns = schema.columns();
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(column)) {
                return i;
            }
        }
        throw new IllegalArgumentException(column);
    }

    /** A join key value as the entity's value type makes it (integers as Long, text as String), or null if it cannot be one. */
    static Object keyValue(Object value, Entity entity) {
        if (value == null) {
            return null;
        }
        return switch (entity.valueType()) {
            case INT64, INT32 -> {
                if (value instanceof Number number) {
                    yield number.longValue();
                }
                try {
                    yield Long.parseLong(value.toString().trim());
                } catch (NumberFormatException e) {
                    yield null;
                }
            }
            case BOOL -> value instanceof Boolean ? value : Boolean.parseBoolean(value.toString());
            case BYTES -> value instanceof ByteBuffer ? value : ByteBuffer.wrap(value.toString().getBytes());
            default -> value.toString();
        };
    }

    /**
     * One feature view's rows, bucketed by key and sorted by (event time, created time) within a
     * bucket, with the needed feature columns.
     */
    private record ViewRows(Map<Object, Integer> keyIds, LongIds longIds, int[] bucketStart, int[] order, long[] times, ColumnValues[] features,
                            Type[] types, List<Entity> entities, Optional<String> pinned) {

        Type type(int feature) {
            return types[feature];
        }

        ColumnValues values(int feature) {
            return features[feature];
        }

        /** The view's rows with event time in [fromMicros, toMicros]: the others can match no entity row. */
        static ViewRows read(Datasets datasets, RegistryState registry, FeatureView view, List<FeatureRef> refs, long fromMicros,
                             long toMicros) {
            List<String> joinKeys = registry.joinKeys(view);
            List<Entity> entities = view.entities().stream().map(registry::entity).toList();
            Table table = datasets.load(view.source().dataset());
            Schema schema = table.schema();
            Type[] types = new Type[refs.size()];
            for (int f = 0; f < refs.size(); f++) {
                types[f] = schema.findField(refs.get(f).feature()).type();
            }
            Snapshot snapshot = table.currentSnapshot();
            if (snapshot == null) {
                ColumnValues[] none = new ColumnValues[refs.size()];
                for (int f = 0; f < none.length; f++) {
                    none[f] = ColumnValues.allocate(types[f], 0);
                }
                return new ViewRows(Map.of(), null, new int[] {0}, new int[0], new long[0], none, types, entities, Optional.empty());
            }
            List<String> columns = new ArrayList<>(joinKeys);
            columns.add(view.source().timestampField());
            view.source().createdTimestamp().ifPresent(columns::add);
            refs.forEach(ref -> columns.add(ref.feature()));
            TableScan scan = table.newScan().useSnapshot(snapshot.snapshotId()).select(columns);
            Types.NestedField timeField = schema.findField(view.source().timestampField());
            if (timeField.type().typeId() == Type.TypeID.TIMESTAMP && (fromMicros > Long.MIN_VALUE || toMicros < Long.MAX_VALUE)) {
                // files and row groups wholly outside the window are not read at all
                scan = scan.filter(Expressions.and(Expressions.greaterThanOrEqual(timeField.name(), fromMicros),
                        Expressions.lessThanOrEqual(timeField.name(), toMicros)));
            }
            long expected = 0;
            Types.NestedField firstKey = schema.findField(joinKeys.get(0));
            long[] keyBounds = {Long.MAX_VALUE, Long.MIN_VALUE};
            boolean keyBounded = joinKeys.size() == 1
                    && (firstKey.type().typeId() == Type.TypeID.LONG || firstKey.type().typeId() == Type.TypeID.INTEGER);
            try (CloseableIterable<FileScanTask> tasks = scan.includeColumnStats().planFiles()) {
                for (FileScanTask task : tasks) {
                    expected += task.file().recordCount();
                    keyBounded = keyBounded && widen(keyBounds, task.file(), firstKey);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (expected > Integer.MAX_VALUE - 16) {
                throw new GranaryException(view.source().dataset() + " has too many rows for the in-process engine", "use --engine spark");
            }
            int capacity = (int) expected;
            List<Types.NestedField> scanned = scan.schema().columns();
            int[] keyAt = new int[joinKeys.size()];
            for (int k = 0; k < keyAt.length; k++) {
                keyAt[k] = indexOf(scanned, joinKeys.get(k));
            }
            int timeAt = indexOf(scanned, view.source().timestampField());
            Type timeType = scanned.get(timeAt).type();
            int createdAt = view.source().createdTimestamp().map(c -> indexOf(scanned, c)).orElse(-1);
            Type createdType = createdAt < 0 ? null : scanned.get(createdAt).type();
            int[] featureAt = new int[refs.size()];
            ColumnValues[] features = new ColumnValues[refs.size()];
            for (int f = 0; f < refs.size(); f++) {
                featureAt[f] = indexOf(scanned, refs.get(f).feature());
                features[f] = ColumnValues.allocate(types[f], capacity);
            }
            Map<Object, Integer> keyIds = new HashMap<>();
            Type.TypeID firstKeyType = scanned.get(keyAt[0]).type().typeId();
            boolean integerKeys = keyAt.length == 1 && (firstKeyType == Type.TypeID.LONG || firstKeyType == Type.TypeID.INTEGER)
                    && (entities.get(0).valueType() == io.granary.feature.registry.ValueType.INT64
                        || entities.get(0).valueType() == io.granary.feature.registry.ValueType.INT32);
            LongIds longIds = !integerKeys ? null
                    : keyBounded && keyBounds[0] <= keyBounds[1] ? LongIds.within(keyBounds[0], keyBounds[1], capacity)
                    : new LongIds(1 << 16);
            // every row read keeps its place (features are copied in bulk, batch by batch); rows outside
            // the time window or without a key or time get no bucket (key id -1)
            int[] keyOf = new int[capacity];
            long[] times = new long[capacity];
            long[] created = new long[capacity];
            int count = 0;
            Object[] parts = new Object[keyAt.length];
            ColumnValues[] batchKeys = new ColumnValues[keyAt.length];
            for (int k = 0; k < keyAt.length; k++) {
                batchKeys[k] = ColumnValues.allocate(scanned.get(keyAt[k]).type(), BATCH_ROWS);
            }
            ColumnValues batchTimes = ColumnValues.allocate(timeType, BATCH_ROWS);
            ColumnValues batchCreated = createdAt < 0 ? null : ColumnValues.allocate(createdType, BATCH_ROWS);
            try (ArrowReader reader = new ArrowReader(scan, BATCH_ROWS, false);
                 CloseableIterator<ColumnarBatch> batches = reader.open(scan.planTasks())) {
                while (batches.hasNext()) {
                    try (ColumnarBatch batch = batches.next()) {
                        int rows = batch.numRows();
                        if (count + rows > capacity) {
                            throw new IllegalStateException(view.source().dataset() + " holds more rows than its files' record counts say");
                        }
                        for (int k = 0; k < keyAt.length; k++) {
                            batchKeys[k].append(0, batch.column(keyAt[k]), rows);
                        }
                        batchTimes.append(0, batch.column(timeAt), rows);
                        if (batchCreated != null) {
                            batchCreated.append(0, batch.column(createdAt), rows);
                        }
                        for (int f = 0; f < features.length; f++) {
                            features[f].append(count, batch.column(featureAt[f]), rows);
                        }
                        for (int row = 0; row < rows; row++) {
                            int at = count + row;
                            keyOf[at] = -1;
                            if (batchTimes.isNull(row)) {
                                continue;
                            }
                            long eventTime = batchTimes.micros(row);
                            if (eventTime < fromMicros || eventTime > toMicros) {
                                continue;
                            }
                            if (longIds != null) {
                                if (batchKeys[0].isNull(row)) {
                                    continue;
                                }
                                keyOf[at] = longIds.add(firstKeyType == Type.TypeID.LONG ? batchKeys[0].longAt(row) : batchKeys[0].intAt(row));
                            } else {
                                Object key = key(batchKeys, row, entities, parts);
                                if (key == null) {
                                    continue;
                                }
                                Integer known = keyIds.get(key);
                                if (known == null) {
                                    known = keyIds.size();
                                    keyIds.put(key, known);
                                }
                                keyOf[at] = known;
                            }
                            times[at] = eventTime;
                            created[at] = batchCreated == null || batchCreated.isNull(row) ? 0 : batchCreated.micros(row);
                        }
                        count += rows;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int keyCount = longIds != null ? longIds.size() : keyIds.size();
            int[] bucketStart = new int[keyCount + 1];
            int bucketed = 0;
            for (int i = 0; i < count; i++) {
                if (keyOf[i] >= 0) {
                    bucketStart[keyOf[i] + 1]++;
                    bucketed++;
                }
            }
            for (int k = 0; k < keyCount; k++) {
                bucketStart[k + 1] += bucketStart[k];
            }
            int[] fill = Arrays.copyOf(bucketStart, bucketStart.length);
            // rows laid out bucket by bucket, with their times beside them, so sorting and searching a bucket stay in cache
            int[] order = new int[bucketed];
            long[] bucketTimes = new long[bucketed];
            long[] bucketCreated = new long[bucketed];
            for (int i = 0; i < count; i++) {
                if (keyOf[i] < 0) {
                    continue;
                }
                int at = fill[keyOf[i]]++;
                order[at] = i;
                bucketTimes[at] = times[i];
                bucketCreated[at] = created[i];
            }
            for (int k = 0; k < keyCount; k++) {
                sortByTime(order, bucketTimes, bucketCreated, bucketStart[k], bucketStart[k + 1]);
            }
            return new ViewRows(keyIds, longIds, bucketStart, order, bucketTimes, features, types, entities,
                    Optional.of(view.source().dataset() + "@" + snapshot.snapshotId()));
        }

        /** For each entity row, the feature row it gets (-1 for none): the last one at or before its time, within the ttl. */
        int[] match(EntityRows rows, int[] keyFields, long[] rowTimes, boolean[] rowTimeNull, long ttlMicros) {
            int[] matches = new int[rows.size()];
            Object[] parts = new Object[keyFields.length];
            for (int i = 0; i < rows.size(); i++) {
                matches[i] = -1;
                if (rowTimeNull[i]) {
                    continue;
                }
                int keyId = keyId(rows, i, keyFields, parts);
                if (keyId < 0) {
                    continue;
                }
                long t = rowTimes[i];
                int low = bucketStart[keyId];
                int high = bucketStart[keyId + 1] - 1;
                int found = -1;
                while (low <= high) {
                    int middle = (low + high) >>> 1;
                    if (times[middle] <= t) {
                        found = middle;
                        low = middle + 1;
                    } else {
                        high = middle - 1;
                    }
                }
                if (found >= 0 && (ttlMicros <= 0 || t - times[found] <= ttlMicros)) {
                    matches[i] = order[found];
                }
            }
            return matches;
        }

        /** The bucket of an entity row's key, or -1 when the view has no rows for it. */
        private int keyId(EntityRows rows, int row, int[] keyFields, Object[] parts) {
            if (keyFields.length == 1) {
                ColumnValues column = rows.column(keyFields[0]);
                if (column.isNull(row)) {
                    return -1;
                }
                if (longIds != null && column.typeId() == Type.TypeID.LONG) {
                    return longIds.get(column.longAt(row));
                }
                if (longIds != null && column.typeId() == Type.TypeID.INTEGER) {
                    return longIds.get(column.intAt(row));
                }
                Object key = keyValue(column.get(row), entities.get(0));
                if (key == null) {
                    return -1;
                }
                if (longIds != null) {
                    return longIds.get((Long) key);
                }
                Integer id = keyIds.get(key);
                return id == null ? -1 : id;
            }
            for (int k = 0; k < keyFields.length; k++) {
                parts[k] = keyValue(rows.value(row, keyFields[k]), entities.get(k));
                if (parts[k] == null) {
                    return -1;
                }
            }
            Integer id = keyIds.get(List.of(parts.clone()));
            return id == null ? -1 : id;
        }

        private static Object key(ColumnValues[] keys, int row, List<Entity> entities, Object[] parts) {
            if (keys.length == 1) {
                return keyValue(keys[0].get(row), entities.get(0));
            }
            for (int k = 0; k < keys.length; k++) {
                parts[k] = keyValue(keys[k].get(row), entities.get(k));
                if (parts[k] == null) {
                    return null;
                }
            }
            return List.of(parts.clone());
        }

        private static int indexOf(List<Types.NestedField> fields, String name) {
            for (int i = 0; i < fields.size(); i++) {
                if (fields.get(i).name().equals(name)) {
                    return i;
                }
            }
            throw new IllegalStateException("column " + name + " missing from the scan");
        }

        /** Sorts the rows of one bucket by (event time, created time): insertion sort for the usual few, a merge sort beyond. */
        private static void sortByTime(int[] order, long[] times, long[] created, int from, int to) {
            if (to - from <= 32) {
                for (int i = from + 1; i < to; i++) {
                    int row = order[i];
                    long time = times[i];
                    long made = created[i];
                    int j = i - 1;
                    while (j >= from && (times[j] > time || (times[j] == time && created[j] > made))) {
                        order[j + 1] = order[j];
                        times[j + 1] = times[j];
                        created[j + 1] = created[j];
                        j--;
                    }
                    order[j + 1] = row;
                    times[j + 1] = time;
                    created[j + 1] = made;
                }
                return;
            }
            Integer[] positions = new Integer[to - from];
            for (int i = from; i < to; i++) {
                positions[i - from] = i;
            }
            Arrays.sort(positions, (a, b) -> times[a] != times[b] ? Long.compare(times[a], times[b]) : Long.compare(created[a], created[b]));
            int[] sortedOrder = new int[to - from];
            long[] sortedTimes = new long[to - from];
            long[] sortedCreated = new long[to - from];
            for (int i = 0; i < positions.length; i++) {
                sortedOrder[i] = order[positions[i]];
                sortedTimes[i] = times[positions[i]];
                sortedCreated[i] = created[positions[i]];
            }
            System.arraycopy(sortedOrder, 0, order, from, sortedOrder.length);
            System.arraycopy(sortedTimes, 0, times, from, sortedTimes.length);
            System.arraycopy(sortedCreated, 0, created, from, sortedCreated.length);
        }
    }
}
