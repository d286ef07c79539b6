package io.granary.feature.materialize;

import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.common.Progress;
import io.granary.dataset.DataFileRows;
import io.granary.dataset.Datasets;
import io.granary.dataset.WriteOrder;
import io.granary.feature.online.EntityKeys;
import io.granary.feature.online.FeatureValues;
import io.granary.feature.online.Layouts;
import io.granary.feature.online.OnlineRow;
import io.granary.feature.online.OnlineStore;
import io.granary.feature.registry.Feature;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the latest feature values of every entity from a view's source dataset into the online
 * store. A full run reads one snapshot within an event-time window, its row-level deletes applied;
 * an incremental run reads only the files of the snapshots committed since the view's last run,
 * oldest first, and records each finished snapshot atomically with its rows, so a killed run,
 * rerun, carries on where it stopped. A snapshot that deletes rows makes it a full run.
 *
 * <p>Rows only ever move forward in the order every engine uses (event time, then created time,
 * then write order: see {@link OnlineRow#isNewerThan}): each stored row carries its place, so an
 * earlier row never replaces a later one, whatever order the data arrives in.
 */
public final class Materializer {

    private static final Logger LOG = LoggerFactory.getLogger(Materializer.class);
    private static final int FLUSH_ENTITIES = 50_000;

    private final Datasets datasets;
    private final RegistryState registry;
    private final OnlineStore store;

    public Materializer(Datasets datasets, RegistryState registry, OnlineStore store) {
        this.datasets = datasets;
        this.registry = registry;
        this.store = store;
    }

    /** The online views named, or all of them; a named view that is not online is an error. */
    public List<FeatureView> views(List<String> names) {
        if (names.isEmpty()) {
            List<FeatureView> online = registry.featureViews().values().stream().map(v -> v.value()).filter(FeatureView::online)
                    .sorted((a, b) -> a.name().compareTo(b.name())).toList();
            if (online.isEmpty()) {
                throw GranaryException.notFound("no online feature views are registered",
                        "register some with `granary feature apply FILE.yaml` (online: true is the default)");
            }
            return online;
        }
        List<FeatureView> views = new ArrayList<>();
        for (String name : names) {
            FeatureView view = registry.featureView(name);
            if (!view.online()) {
                throw new GranaryException("feature view '" + name + "' is not online", "set online: true in its definition and apply it");
            }
            views.add(view);
        }
        return views;
    }

    /** Materializes rows with event time in [start, end) of the current snapshot of each view's source. */
    public List<MaterializeResult> materialize(List<String> names, Instant start, Instant end) {
        if (!start.isBefore(end)) {
            throw new GranaryException("--start " + start + " is not before --end " + end, "give a window that ends after it starts");
        }
        List<MaterializeResult> results = new ArrayList<>();
        for (FeatureView view : views(names)) {
            results.add(full(view, start, end, "full"));
        }
        return results;
    }

    /**
     * Materializes what each view's source gained since its last run, up to event time {@code end}.
     * A view never materialized starts with a full run over its ttl before {@code end}.
     */
    public List<MaterializeResult> materializeIncremental(List<String> names, Instant end) {
        List<MaterializeResult> results = new ArrayList<>();
        for (FeatureView view : views(names)) {
            Optional<Checkpoint> checkpoint = store.state(Checkpoint.key(view.name())).map(Checkpoint::decode);
            Instant start = view.ttlSeconds() > 0 ? end.minus(view.ttl()) : Instant.EPOCH;
            if (checkpoint.isEmpty() || !checkpoint.get().dataset().equals(view.source().dataset().toString())) {
                results.add(full(view, start, end, "first (full)"));
                continue;
            }
            results.add(incremental(view, checkpoint.get(), end));
        }
        return results;
    }

    private MaterializeResult full(FeatureView view, Instant start, Instant end, String mode) {
        long began = System.nanoTime();
        Table table = datasets.load(view.source().dataset());
        Snapshot snapshot = table.currentSnapshot();
        Batch batch = new Batch(view);
        if (snapshot != null) {
            // files in write order, each row with its place in it; row-level deletes applied
            WriteOrder order = WriteOrder.of(table, Optional.of(snapshot));
            Schema projection = projection(table, batch);
            try (Progress progress = Progress.start("materializing " + view.name(), "rows", -1)) {
                for (FileScanTask task : order.tasks()) {
                    WriteOrder.Place place = order.place(task.file().location()).orElseThrow();
                    read(table, task.file(), Optional.of(task), projection, record -> {
                        batch.add(record, place, (Long) record.getField(MetadataColumns.ROW_POSITION.name()), toMicros(start), toMicros(end));
                        progress.advance(1, 0);
                    });
                }
            }
        }
        long snapshotId = snapshot == null ? -1 : snapshot.snapshotId();
        batch.flush(new Checkpoint(snapshotId, toMicros(start), toMicros(end), view.source().dataset().toString(), System.currentTimeMillis()));
        store.finishWrites(view.name(), batch.entitiesWritten);
        return new MaterializeResult(view.name(), mode, batch.rowsRead, batch.entitiesWritten, batch.newer, snapshot == null ? 0 : 1,
                snapshotId, Duration.ofNanos(System.nanoTime() - began));
    }

    private MaterializeResult incremental(FeatureView view, Checkpoint checkpoint, Instant end) {
        long began = System.nanoTime();
        Table table = datasets.load(view.source().dataset());
        Snapshot current = table.currentSnapshot();
        if (current == null || current.snapshotId() == checkpoint.snapshotId()) {
            return new MaterializeResult(view.name(), "incremental", 0, 0, 0, 0, checkpoint.snapshotId(), Duration.ofNanos(System.nanoTime() - began));
        }
        if (table.snapshot(checkpoint.snapshotId()) == null || !SnapshotUtil.isAncestorOf(table, current.snapshotId(), checkpoint.snapshotId())) {
            LOG.info("snapshot {} of {} (where {} was materialized up to) is gone or no longer an ancestor: reading the whole dataset",
                    checkpoint.snapshotId(), view.source().dataset(), view.name());
            Instant start = view.ttlSeconds() > 0 ? end.minus(view.ttl()) : Instant.EPOCH;
            return full(view, start, end, "full (history rewritten)");
        }
        List<Snapshot> pending = new ArrayList<>();
        for (Snapshot snapshot : SnapshotUtil.ancestorsBetween(table, current.snapshotId(), checkpoint.snapshotId())) {
            pending.add(0, snapshot);
        }
        for (Snapshot snapshot : pending) {
            if (Long.parseLong(snapshot.summary().getOrDefault("added-delete-files", "0")) > 0) {
                LOG.info("snapshot {} of {} deletes rows: reading the whole dataset for {}, its deletes applied",
                        snapshot.snapshotId(), view.source().dataset(), view.name());
                Instant start = view.ttlSeconds() > 0 ? end.minus(view.ttl()) : Instant.EPOCH;
                return full(view, start, end, "full (rows deleted)");
            }
        }
        Batch batch = new Batch(view);
        Schema projection = projection(table, batch);
        try (Progress progress = Progress.start("materializing " + view.name(), "rows", -1)) {
            for (Snapshot snapshot : pending) {
                if (!"replace".equals(snapshot.operation())) { // a compaction rewrites rows already seen
                    // a commit's files, in the order it listed them: their ordinals in the write order
                    int ordinal = 0;
                    for (DataFile file : snapshot.addedDataFiles(table.io())) {
                        WriteOrder.Place place = new WriteOrder.Place(file.dataSequenceNumber(), ordinal++);
                        read(table, file, Optional.empty(), projection, record -> {
                            batch.add(record, place, (Long) record.getField(MetadataColumns.ROW_POSITION.name()), Long.MIN_VALUE,
                                    toMicros(end));
                            progress.advance(1, 0);
                        });
                    }
                }
                batch.flush(new Checkpoint(snapshot.snapshotId(), checkpoint.startMicros(), toMicros(end),
                        view.source().dataset().toString(), System.currentTimeMillis()));
            }
        }
        store.finishWrites(view.name(), batch.entitiesWritten);
        return new MaterializeResult(view.name(), "incremental", batch.rowsRead, batch.entitiesWritten, batch.newer, pending.size(),
                current.snapshotId(), Duration.ofNanos(System.nanoTime() - began));
    }

    /** The columns a view is materialized from, and each row's position in its file. */
    private static Schema projection(Table table, Batch batch) {
        return TypeUtil.join(table.schema().select(batch.columns()), new Schema(MetadataColumns.ROW_POSITION));
    }

    /** Reads a data file's rows in order, with the row-level deletes of its scan task applied if there is one. */
    private static void read(Table table, DataFile file, Optional<FileScanTask> task, Schema projection, Consumer<Record> action) {
        DataFileRows.forEach(table, file, task, projection, action);
    }

    static long toMicros(Instant instant) {
        return instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1_000;
    }

    /** The latest row per entity seen so far, written to the store in flushes. */
    private final class Batch {
        private final FeatureView view;
        private final List<String> joinKeys;
        private final Map<ByteBuffer, OnlineRow> latest = new HashMap<>();
        private final int layout;
        private boolean layoutWritten;
        long rowsRead;
        long entitiesWritten;
        long newer;

        Batch(FeatureView view) {
            this.view = view;
            this.joinKeys = registry.joinKeys(view);
            this.layout = Layouts.id(view);
            store.expireAfter(view.name(), view.ttl());
        }

        List<String> columns() {
            Set<String> columns = new LinkedHashSet<>(joinKeys);
            columns.add(view.source().timestampField());
            view.source().createdTimestamp().ifPresent(columns::add);
            view.features().forEach(f -> columns.add(f.name()));
            return new ArrayList<>(columns);
        }

        void add(Record record, WriteOrder.Place place, long position, long startMicros, long endMicros) {
            rowsRead++;
            Object eventTime = record.getField(view.source().timestampField());
            if (eventTime == null) {
                return;
            }
            long event = FeatureValues.epochMicros(eventTime);
            if (event < startMicros || event >= endMicros) {
                return;
            }
            List<Object> keyValues = new ArrayList<>(joinKeys.size());
            for (String joinKey : joinKeys) {
                Object value = record.getField(joinKey);
                if (value == null) {
                    return; // a row without its entity key describes no entity
                }
                keyValues.add(value);
            }
            long created = view.source().createdTimestamp().map(record::getField).map(FeatureValues::epochMicros).orElse(0L);
            List<Value> values = new ArrayList<>(view.features().size());
            for (Feature feature : view.features()) {
                values.add(FeatureValues.toValue(record.getField(feature.name()), feature.dtype()));
            }
            OnlineRow row = new OnlineRow(layout, event, created, place.sequence(), place.rowOrder(position), values);
            latest.merge(ByteBuffer.wrap(EntityKeys.encode(keyValues)), row, (a, b) -> b.isNewerThan(a) ? b : a);
            if (latest.size() >= FLUSH_ENTITIES) {
                flush(null);
            }
        }

        void flush(Checkpoint checkpoint) {
            if (!layoutWritten) {
                // the layout first, so that no reader meets a row it cannot name
                store.writeNewer(view.name(), List.of(), List.of(), Optional.of(Layouts.record(view)));
                layoutWritten = true;
            }
            List<byte[]> keys = new ArrayList<>(latest.size());
            List<OnlineRow> rows = new ArrayList<>(latest.size());
            latest.forEach((key, row) -> {
                keys.add(key.array());
                rows.add(row);
            });
            newer += store.writeNewer(view.name(), keys, rows,
                    Optional.ofNullable(checkpoint).map(c -> new OnlineStore.StateRecord(Checkpoint.key(view.name()), c.encode())));
            entitiesWritten += keys.size();
            latest.clear();
        }
    }
}
