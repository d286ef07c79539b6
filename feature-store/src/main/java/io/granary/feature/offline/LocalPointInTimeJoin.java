package io.granary.feature.offline;

import io.granary.common.GranaryException;
import io.granary.common.IoFailures;
import io.granary.common.Sizes;
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
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The point-in-time join of {@link PointInTimeJoin}, with the same semantics and the same answer on
 * ties, run inside this process for what fits one machine: the entity rows are indexed by key in
 * time order, each feature view is read column by column in write order and offered to the entity
 * rows it can reach (see {@link ViewJoin}). No Spark start, no shuffle.
 */
public final class LocalPointInTimeJoin implements PointInTimeValues {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LocalPointInTimeJoin.class);


    private final Datasets datasets;
    private final RegistryState registry;
    private final long memoryBudget;

    public LocalPointInTimeJoin(Datasets datasets, RegistryState registry) {
        // a quarter of the heap left for everything else this process holds
        this(datasets, registry, Runtime.getRuntime().maxMemory() / 4 * 3);
    }

    /** An engine that refuses joins whose rows would take more than {@code memoryBudget} bytes to hold. */
    LocalPointInTimeJoin(Datasets datasets, RegistryState registry, long memoryBudget) {
        this.datasets = datasets;
        this.registry = registry;
        this.memoryBudget = memoryBudget;
    }

    /**
     * Why this join must run on Spark instead (a column type or delete files the local engine does
     * not read, or more rows than this process's memory holds), if it must.
     */
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
            Optional<String> why = unsupported(view, Optional.empty());
            if (why.isPresent()) {
                return why;
            }
        }
        long needed = memoryNeeded(entities, refs);
        if (needed > memoryBudget) {
            return Optional.of("it would hold about " + Sizes.format(needed) + " in memory, more than the " + Sizes.format(memoryBudget)
                    + " this process can spare (GRANARY_HEAP raises it)");
        }
        return Optional.empty();
    }

    /** Why a view's source, at a snapshot (else its current one), must be read by Spark instead, if it must. */
    private Optional<String> unsupported(FeatureView view, Optional<Long> sourceSnapshot) {
        Table table = datasets.load(view.source().dataset());
        for (Types.NestedField column : table.schema().columns()) {
            boolean used = registry.joinKeys(view).contains(column.name()) || column.name().equals(view.source().timestampField())
                    || view.source().createdTimestamp().map(column.name()::equals).orElse(false)
                    || view.features().stream().anyMatch(f -> f.name().equals(column.name()));
            if (used && !ColumnValues.supports(column.type())) {
                return Optional.of("column " + column.name() + " of " + view.source().dataset() + " is " + column.type());
            }
        }
        Snapshot snapshot = sourceSnapshot.map(id -> ViewJoin.snapshotOf(table, id, view)).orElse(table.currentSnapshot());
        if (snapshot != null) {
            try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
                for (FileScanTask task : tasks) {
                    if (!task.deletes().isEmpty()) {
                        return Optional.of(view.source().dataset() + " has row-level deletes");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Optional.empty();
    }

    /**
     * What the join holds in memory at its peak, about: per feature row read its keys, times,
     * features and place in a run; per entity row its columns, its slots and its answers.
     */
    private long memoryNeeded(ResolvedRef entities, List<FeatureRef> refs) {
        long entityBytes = 0;
        for (Types.NestedField column : entities.schema().columns()) {
            entityBytes += ColumnValues.width(column.type());
        }
        long total = 0;
        Map<FeatureView, List<FeatureRef>> views = views(refs);
        for (Map.Entry<FeatureView, List<FeatureRef>> group : views.entrySet()) {
            FeatureView view = group.getKey();
            Table table = datasets.load(view.source().dataset());
            Schema schema = table.schema();
            long rowBytes = Long.BYTES + Integer.BYTES + 2 * Long.BYTES;
            for (String key : registry.joinKeys(view)) {
                rowBytes += width(schema, key);
            }
            if (view.source().createdTimestamp().isPresent()) {
                rowBytes += 2 * Long.BYTES;
            }
            for (FeatureRef ref : group.getValue()) {
                int width = width(schema, ref.feature());
                rowBytes += width;
                entityBytes += width;
            }
            total += totalRecords(table.currentSnapshot()) * rowBytes;
            // the view's slots, offers and answers for each entity row, and its key set's index
            entityBytes += 3 * Long.BYTES + 2 * Integer.BYTES + 24;
        }
        return total + totalRecords(entities.snapshot().orElse(null)) * entityBytes;
    }

    /** The source columns a feature of a view is read with: join keys, times, the feature. */
    private List<String> sourceColumns(FeatureView view, FeatureRef ref) {
        List<String> columns = new ArrayList<>(registry.joinKeys(view));
        columns.add(view.source().timestampField());
        view.source().createdTimestamp().ifPresent(columns::add);
        columns.add(ref.feature());
        return columns;
    }

    /** A column's width; a column the source lost since the registry checked it fails the join later, with its name. */
    private static int width(Schema schema, String column) {
        Types.NestedField field = schema.findField(column);
        return field == null ? Long.BYTES : ColumnValues.width(field.type());
    }

    private static long totalRecords(Snapshot snapshot) {
        return snapshot == null ? 0 : Long.parseLong(snapshot.summary().getOrDefault("total-records", "0"));
    }

    /** Writes the entity rows of {@code entitiesRef} with the features' point-in-time values as a new dataset. */
    public WriteResult history(DatasetRef entitiesRef, Optional<String> timestampField, List<FeatureRef> refs, boolean fullNames,
                               DatasetName out, Provenance provenance) {
        return history(entitiesRef, timestampField, refs, fullNames, Map.of(), out, provenance);
    }

    /**
     * As {@link #history(DatasetRef, Optional, List, boolean, DatasetName, Provenance)}, each view read
     * at the snapshot {@code sourceSnapshots} gives for its name (else at its source's current one).
     */
    public WriteResult history(DatasetRef entitiesRef, Optional<String> timestampField, List<FeatureRef> refs, boolean fullNames,
                               Map<String, Long> sourceSnapshots, DatasetName out, Provenance provenance) {
        if (datasets.exists(out)) {
            throw GranaryException.alreadyExists("dataset " + out + " already exists", "choose another --out, or drop it first");
        }
        unsupported(entitiesRef, refs).ifPresent(why -> {
            throw new GranaryException("the in-process engine cannot run this join: " + why,
                    "use --engine spark (--engine auto, the default, does so by itself)");
        });
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
                for (String column : sourceColumns(view, ref)) {
                    if (source.findField(column) == null) {
                        throw new GranaryException("feature view " + view.name() + "'s source " + view.source().dataset() + " has no column '"
                                + column + "' any more", "restore the column, or change the view and apply it again (granary feature apply)");
                    }
                }
                outputFields.add(Types.NestedField.optional(id++, name, source.findField(ref.feature()).type()));
            }
        }

        // A feature row later than the last entity row, or older than the first one by more than the
        // view's ttl, can match no entity row: the views are read within that window (Feast's offline
        // stores filter the same way), known before reading from the entity files' column bounds.
        Optional<long[]> entityTimes = timeBounds(resolved.table(), snapshot.snapshotId(), entitySchema.findField(timestamp));
        List<String> inputs = new ArrayList<>(List.of(resolved.pinned()));
        int timeField = position(entitySchema, timestamp);
        Joined joined = join(() -> EntityRows.read(entitiesRef.dataset().toString(), resolved.table(), snapshot.snapshotId(), entitySchema),
                timeField, views, keyFieldsByView, entityTimes, sourceSnapshots);
        inputs.addAll(joined.inputs());
        Schema outputSchema = new Schema(outputFields);
        long writeStart = System.nanoTime();
        int entityColumns = entitySchema.columns().size();
        WriteResult result = datasets.createFromFiles(out, outputSchema, PointInTimeJoin.TRAINING_SET_PROPERTIES,
                table -> write(table, joined.entities(), entityColumns, joined.features()), provenance.withInputs(inputs));
        LOG.debug("wrote {} rows in {} ms", result.rowsWritten(), (System.nanoTime() - writeStart) / 1_000_000);
        return result;
    }

    /**
     * Why {@link #valuesAt} cannot run here for this view (a column type or row-level deletes), if it cannot:
     * then {@link PointInTimeJoin#valuesAt} answers instead.
     */
    public Optional<String> unsupportedAt(FeatureView view, Optional<Long> sourceSnapshot) {
        return unsupported(view, sourceSnapshot);
    }

    /**
     * Each entity key's point-in-time values of all of {@code view}'s features at one time, as a
     * training set built by this engine holds them for an entity row of that key at {@code atMicros}:
     * the view's source read at {@code sourceSnapshot} (else its current snapshot). A key is its join
     * key values in the view's entity order, as {@code EntityKeys} holds them (Long, String,
     * ByteBuffer, Boolean); a key with no row in range gets nulls. Values are as Iceberg's generic
     * records hold them. For checking what the online store serves against the training data.
     */
    @Override
    public List<Object[]> valuesAt(FeatureView view, Optional<Long> sourceSnapshot, List<List<Object>> keys, long atMicros) {
        unsupported(view, sourceSnapshot).ifPresent(why -> {
            throw new GranaryException("the in-process engine cannot read feature view " + view.name() + ": " + why, "use --engine spark");
        });
        List<Entity> entities = view.entities().stream().map(registry::entity).toList();
        ColumnValues[] columns = new ColumnValues[entities.size() + 1];
        int[] keyFields = new int[entities.size()];
        for (int k = 0; k < entities.size(); k++) {
            int field = k;
            columns[k] = ColumnValues.of(keyType(entities.get(k)), keys.stream().map(key -> key.get(field)).toList());
            keyFields[k] = k;
        }
        int timeField = entities.size();
        columns[timeField] = ColumnValues.of(Types.TimestampType.withZone(),
                keys.stream().map(key -> (Object) OffsetDateTime.ofInstant(Instant.EPOCH.plus(atMicros, ChronoUnit.MICROS), ZoneOffset.UTC))
                        .toList());
        EntityRows rows = EntityRows.of(columns, keys.size());
        List<FeatureRef> refs = view.features().stream().map(feature -> new FeatureRef(view.name(), feature.name())).toList();
        Map<FeatureView, List<FeatureRef>> views = new LinkedHashMap<>(Map.of(view, refs));
        Map<String, Long> pins = sourceSnapshot.map(id -> Map.of(view.name(), id)).orElse(Map.of());
        Joined joined = join(() -> rows, timeField, views, Map.of(view, keyFields), Optional.of(new long[] {atMicros, atMicros}), pins);
        List<Object[]> values = new ArrayList<>(keys.size());
        for (int row = 0; row < keys.size(); row++) {
            Object[] features = new Object[refs.size()];
            for (int f = 0; f < refs.size(); f++) {
                features[f] = joined.features().get(f).get(row);
            }
            values.add(features);
        }
        return values;
    }

    /** The column type entity keys of this entity take in memory (EntityKeys' normal form). */
    private static Type keyType(Entity entity) {
        return switch (entity.valueType()) {
            case INT64, INT32 -> Types.LongType.get();
            case BOOL -> Types.BooleanType.get();
            case BYTES -> Types.BinaryType.get();
            default -> Types.StringType.get();
        };
    }

    /** The entity rows, the feature columns joined to them (one per ref, views in order), and the view snapshots read. */
    private record Joined(EntityRows entities, List<ColumnValues> features, List<String> inputs) {}

    /**
     * Joins the views' features to the entity rows that {@code readEntities} gives, which runs on
     * the pool while the views are read. Each view is read at {@code sourceSnapshots}' snapshot of
     * it (by view name), else at its source's current one, within the entity rows' time window
     * {@code entityTimes} (widened back by the view's ttl) when known.
     */
    private Joined join(Callable<EntityRows> readEntities, int timeField, Map<FeatureView, List<FeatureRef>> views,
                        Map<FeatureView, int[]> keyFieldsByView, Optional<long[]> entityTimes, Map<String, Long> sourceSnapshots) {
        long started = System.nanoTime();
        // The entity rows are read and indexed per set of join keys while every view is read, one
        // task per core; a view offers its rows to the entity rows once their index is there.
        int cores = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = daemonPool(cores, "granary-history-read");
        List<String> inputs = new ArrayList<>();
        List<ColumnValues> outputValues = new ArrayList<>();
        CompletableFuture<EntityRows> entityRows = new CompletableFuture<>();
        Map<List<Integer>, CompletableFuture<EntityIndex>> indexes = new LinkedHashMap<>();
        Map<List<Integer>, List<Entity>> keyEntities = new LinkedHashMap<>();
        for (FeatureView view : views.keySet()) {
            indexes.putIfAbsent(keys(keyFieldsByView.get(view)), new CompletableFuture<>());
            keyEntities.putIfAbsent(keys(keyFieldsByView.get(view)), view.entities().stream().map(registry::entity).toList());
        }
        try {
            // submitted first, so running before any view can wait for it
            pool.submit(() -> {
                try {
                    EntityRows rows = readEntities.call();
                    entityRows.complete(rows);
                    LOG.debug("read {} entity rows in {} ms", rows.size(), (System.nanoTime() - started) / 1_000_000);
                    for (Map.Entry<List<Integer>, CompletableFuture<EntityIndex>> index : indexes.entrySet()) {
                        int[] keyFields = index.getKey().stream().mapToInt(Integer::intValue).toArray();
                        index.getValue().complete(EntityIndex.build(rows, keyFields, keyEntities.get(index.getKey()), timeField));
                    }
                    LOG.debug("indexed the entity rows in {} ms", (System.nanoTime() - started) / 1_000_000);
                } catch (Throwable e) {
                    entityRows.completeExceptionally(e);
                    indexes.values().forEach(index -> index.completeExceptionally(e));
                }
            });
            // each view planned in the pool too, then read in parts of whole files, one task a part
            Map<FeatureView, Future<ViewJoin>> planned = new LinkedHashMap<>();
            for (Map.Entry<FeatureView, List<FeatureRef>> group : views.entrySet()) {
                FeatureView view = group.getKey();
                long ttl = view.ttlSeconds() * 1_000_000L;
                long from = entityTimes.isEmpty() || ttl <= 0 ? Long.MIN_VALUE : entityTimes.get()[0] - ttl;
                long to = entityTimes.isEmpty() ? Long.MAX_VALUE : entityTimes.get()[1];
                Optional<Long> pinned = Optional.ofNullable(sourceSnapshots.get(view.name()));
                planned.put(view, pool.submit(() -> ViewJoin.plan(datasets, registry, view, group.getValue(), pinned, from, to, cores)));
            }
            Map<FeatureView, List<Future<ViewJoin.Runs>>> offered = new LinkedHashMap<>();
            for (Map.Entry<FeatureView, Future<ViewJoin>> view : planned.entrySet()) {
                ViewJoin join = await(view.getValue());
                CompletableFuture<EntityIndex> index = indexes.get(keys(keyFieldsByView.get(view.getKey())));
                List<Future<ViewJoin.Runs>> parts = new ArrayList<>();
                for (int part = 0; part < join.parts(); part++) {
                    int which = part;
                    parts.add(pool.submit(() -> join.readPart(which, index)));
                }
                offered.put(view.getKey(), parts);
            }
            // each view's matches, and its feature columns gathered into entity row order by them: one tight
            // loop a column, whose random reads overlap, rather than one scattered read a cell while writing
            Map<FeatureView, Future<List<ColumnValues>>> gathered = new LinkedHashMap<>();
            for (Map.Entry<FeatureView, List<Future<ViewJoin.Runs>>> view : offered.entrySet()) {
                List<ViewJoin.Runs> runs = new ArrayList<>();
                view.getValue().forEach(part -> runs.add(await(part)));
                ViewJoin join = await(planned.get(view.getKey()));
                join.pinned().ifPresent(inputs::add);
                LOG.debug("view {}: {} rows read in {} parts by {} ms", view.getKey().name(), join.rowsRead(), join.parts(),
                        (System.nanoTime() - started) / 1_000_000);
                long ttl = view.getKey().ttlSeconds() * 1_000_000L;
                EntityIndex index = await(indexes.get(keys(keyFieldsByView.get(view.getKey()))));
                int entityCount = await(entityRows).size();
                gathered.put(view.getKey(), pool.submit(() -> join.gather(runs, index, entityCount, ttl, pool)));
            }
            for (FeatureView view : views.keySet()) {
                outputValues.addAll(await(gathered.get(view)));
            }
        } finally {
            pool.shutdownNow();
        }
        return new Joined(await(entityRows), outputValues, inputs);
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


    /** Threads that never keep the process alive, named for thread dumps. */
    private static ExecutorService daemonPool(int threads, String name) {
        return Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** A data file of {@code dataset} that could not be read (damaged, truncated, gone), named with the reason. */
    static GranaryException unreadable(String dataset, String file, Exception error) {
        if (error instanceof GranaryException granary) {
            return granary;
        }
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String reason = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return new GranaryException(GranaryException.Kind.UNAVAILABLE, "cannot read " + dataset + ": " + reason + " (in " + file + ")",
                "the data file may be damaged or truncated: restore it from a copy, or rewrite " + dataset + " from its source", error);
    }

    private static List<Integer> keys(int[] keyFields) {
        return Arrays.stream(keyFields).boxed().toList();
    }

    static <T> T await(Future<T> future) {
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
        ExecutorService pool = daemonPool(threads, "granary-history-write");
        List<Future<DataFile>> parts = new ArrayList<>();
        try {
            int per = (entities.size() + threads - 1) / threads;
            for (int t = 0; t < threads; t++) {
                int from = t * per;
                int to = Math.min(entities.size(), from + per);
                parts.add(pool.submit(() -> writeRows(table, entities, from, to, entityColumns, values)));
            }
            List<DataFile> written = new ArrayList<>();
            for (Future<DataFile> part : parts) {
                written.add(part.get());
            }
            return written;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while writing", "run it again");
        } catch (ExecutionException e) {
            // every file the other threads finished goes too: nothing is committed, nothing left behind
            for (Future<DataFile> part : parts) {
                try {
                    table.io().deleteFile(part.get().location());
                } catch (InterruptedException | ExecutionException | RuntimeException ignored) {
                    // that part failed or was stopped: it deleted its own file
                }
            }
            RuntimeException error = e.getCause() instanceof RuntimeException runtime ? runtime
                    : e.getCause() instanceof IOException io ? new UncheckedIOException(io) : new IllegalStateException(e.getCause());
            throw IoFailures.whileWriting("the rows of " + table.name(), table.location(), error);
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
        return ColumnarParquet.write(table, table.io().newOutputFile(location), columns, from, to);
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
}
