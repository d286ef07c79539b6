package io.granary.feature.offline;

import io.granary.common.GranaryException;
import io.granary.dataset.Datasets;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Future;
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
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * One feature view's side of the in-process point-in-time join. Its rows are read in Arrow
 * batches and each is offered to the first entity slot of its key at or after its event time (see
 * {@link EntityIndex}), which keeps the latest (event time, created time) offered. Walking a key's
 * slots in time order, the latest offer so far is then each entity row's point-in-time row: no
 * feature row is sorted or bucketed, and rows whose key no entity row has are dropped at once.
 */
final class ViewJoin {

    private static final int BATCH_ROWS = 64 * 1024;

    /** Per entity slot: its time, then the time, created time and row number of the latest row offered (-1: none). */
    private static final int SLOT_TIME = 0;
    private static final int OFFER_TIME = 1;
    private static final int OFFER_CREATED = 2;
    private static final int OFFER_ROW = 3;
    private static final int SLOT_WIDTH = 4;

    private final ColumnValues[] features;
    private final EntityIndex index;
    private final long[] slots;
    private final int rowsRead;
    private final Optional<String> pinned;

    private ViewJoin(ColumnValues[] features, EntityIndex index, long[] slots, int rowsRead, Optional<String> pinned) {
        this.features = features;
        this.index = index;
        this.slots = slots;
        this.rowsRead = rowsRead;
        this.pinned = pinned;
    }

    /**
     * Reads the view's rows with event time in [fromMicros, toMicros] (the others can match no
     * entity row) and offers them to the entity rows once {@code entityIndex} is done.
     */
    static ViewJoin read(Datasets datasets, RegistryState registry, FeatureView view, List<FeatureRef> refs, long fromMicros, long toMicros,
                         Future<EntityIndex> entityIndex) {
        List<String> joinKeys = registry.joinKeys(view);
        Table table = datasets.load(view.source().dataset());
        Schema schema = table.schema();
        Snapshot snapshot = table.currentSnapshot();
        if (snapshot == null) {
            ColumnValues[] none = new ColumnValues[refs.size()];
            for (int f = 0; f < none.length; f++) {
                none[f] = ColumnValues.allocate(schema.findField(refs.get(f).feature()).type(), 0);
            }
            EntityIndex index = LocalPointInTimeJoin.await(entityIndex);
            return new ViewJoin(none, index, emptySlots(index), 0, Optional.empty());
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
        try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
            for (FileScanTask task : tasks) {
                expected += task.file().recordCount();
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
        ColumnValues[] keys = new ColumnValues[joinKeys.size()];
        for (int k = 0; k < keyAt.length; k++) {
            keyAt[k] = indexOf(scanned, joinKeys.get(k));
            keys[k] = ColumnValues.allocate(scanned.get(keyAt[k]).type(), capacity);
        }
        int timeAt = indexOf(scanned, view.source().timestampField());
        ColumnValues times = ColumnValues.allocate(scanned.get(timeAt).type(), capacity);
        int createdAt = view.source().createdTimestamp().map(c -> indexOf(scanned, c)).orElse(-1);
        ColumnValues created = createdAt < 0 ? null : ColumnValues.allocate(scanned.get(createdAt).type(), capacity);
        int[] featureAt = new int[refs.size()];
        ColumnValues[] features = new ColumnValues[refs.size()];
        for (int f = 0; f < refs.size(); f++) {
            featureAt[f] = indexOf(scanned, refs.get(f).feature());
            features[f] = ColumnValues.allocate(scanned.get(featureAt[f]).type(), capacity);
        }

        Offers offers = null;
        int count = 0;
        try (ArrowReader reader = new ArrowReader(scan, BATCH_ROWS, false);
             CloseableIterator<ColumnarBatch> batches = reader.open(scan.planTasks())) {
            while (batches.hasNext()) {
                try (ColumnarBatch batch = batches.next()) {
                    int rows = batch.numRows();
                    if (count + rows > capacity) {
                        throw new IllegalStateException(view.source().dataset() + " holds more rows than its files' record counts say");
                    }
                    for (int k = 0; k < keyAt.length; k++) {
                        keys[k].append(count, batch.column(keyAt[k]), rows);
                    }
                    times.append(count, batch.column(timeAt), rows);
                    if (created != null) {
                        created.append(count, batch.column(createdAt), rows);
                    }
                    for (int f = 0; f < features.length; f++) {
                        features[f].append(count, batch.column(featureAt[f]), rows);
                    }
                    count += rows;
                }
                // rows read before the entity rows are indexed wait in the columns until they are
                if (offers == null && entityIndex.isDone()) {
                    offers = new Offers(LocalPointInTimeJoin.await(entityIndex), keys, times, created, fromMicros, toMicros, capacity);
                }
                if (offers != null) {
                    offers.addUpTo(count);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (offers == null) {
            offers = new Offers(LocalPointInTimeJoin.await(entityIndex), keys, times, created, fromMicros, toMicros, capacity);
        }
        offers.addUpTo(count);
        return new ViewJoin(features, offers.index, offers.offer(), count, Optional.of(view.source().dataset() + "@" + snapshot.snapshotId()));
    }

    private static long[] emptySlots(EntityIndex index) {
        long[] slots = new long[index.slots() * SLOT_WIDTH];
        for (int slot = 0; slot < index.slots(); slot++) {
            slots[slot * SLOT_WIDTH + SLOT_TIME] = index.slotTime(slot);
            slots[slot * SLOT_WIDTH + OFFER_ROW] = -1;
        }
        return slots;
    }

    /**
     * The rows read so far, offered to the entity slots. Slots are visited at random, and a view's
     * slots are far larger than a core's cache: so rows are first sorted into runs by the part of
     * the slots their key falls in (a pass of sequential writes), and each run, whose slots then
     * stay in cache, is offered in turn once every row has been read.
     */
    private static final class Offers {

        /** Slots per run: 16K slots of 32 bytes, half a megabyte, well within a core's cache. */
        private static final int RUN_SHIFT = 14;

        private final EntityIndex index;
        private final long[] slots;
        private final ColumnValues[] keys;
        private final ColumnValues times;
        private final ColumnValues created;
        private final long fromMicros;
        private final long toMicros;
        private final Object[] parts;
        private final Run[] runs;
        private int offered;

        Offers(EntityIndex index, ColumnValues[] keys, ColumnValues times, ColumnValues created, long fromMicros, long toMicros,
               int expectedRows) {
            this.index = index;
            this.slots = emptySlots(index);
            this.keys = keys;
            this.times = times;
            this.created = created;
            this.fromMicros = fromMicros;
            this.toMicros = toMicros;
            this.parts = new Object[keys.length];
            this.runs = new Run[(index.slots() >>> RUN_SHIFT) + 1];
            for (int r = 0; r < runs.length; r++) {
                runs[r] = new Run(Math.max(1024, expectedRows / runs.length + expectedRows / runs.length / 8), created != null);
            }
        }

        /** Sorts the rows read up to {@code count} into runs. */
        void addUpTo(int count) {
            for (int row = offered; row < count; row++) {
                if (times.isNull(row)) {
                    continue;
                }
                long time = times.micros(row);
                if (time < fromMicros || time > toMicros) {
                    continue;
                }
                int keyId = index.keyId(keys, row, parts);
                if (keyId < 0) {
                    continue;
                }
                long made = created == null || created.isNull(row) ? 0 : created.micros(row);
                runs[index.bucketStart(keyId) >>> RUN_SHIFT].add(keyId, row, time, made);
            }
            offered = count;
        }

        /** Offers every row added, run by run. */
        long[] offer() {
            for (Run run : runs) {
                long[] entries = run.entries;
                int width = run.width;
                for (int e = 0; e < run.size * width; e += width) {
                    int keyId = (int) (entries[e] >>> 32);
                    int row = (int) entries[e];
                    long time = entries[e + 1];
                    long made = width == 3 ? entries[e + 2] : 0;
                    // the first of the key's entity rows at or after this row's time
                    int low = index.bucketStart(keyId);
                    int end = index.bucketEnd(keyId);
                    int high = end;
                    while (low < high) {
                        int middle = (low + high) >>> 1;
                        if (slots[middle * SLOT_WIDTH + SLOT_TIME] < time) {
                            low = middle + 1;
                        } else {
                            high = middle;
                        }
                    }
                    if (low == end) {
                        continue;
                    }
                    int at = low * SLOT_WIDTH;
                    if (newer(time, made, slots, at)) {
                        slots[at + OFFER_TIME] = time;
                        slots[at + OFFER_CREATED] = made;
                        slots[at + OFFER_ROW] = row;
                    }
                }
            }
            return slots;
        }
    }

    /**
     * Rows whose key's slots start in one run of slots, one after the other in a single array (a
     * single stream of writes per run): key id and row number, event time, created time if any.
     */
    private static final class Run {

        private final int width;
        private long[] entries;
        private int size;

        Run(int capacity, boolean withCreated) {
            width = withCreated ? 3 : 2;
            entries = new long[capacity * width];
        }

        void add(int keyId, int row, long time, long made) {
            int at = size * width;
            if (at + width > entries.length) {
                entries = Arrays.copyOf(entries, entries.length + (entries.length >> 1) + 16 * width);
            }
            entries[at] = (long) keyId << 32 | (row & 0xFFFFFFFFL);
            entries[at + 1] = time;
            if (width == 3) {
                entries[at + 2] = made;
            }
            size++;
        }
    }

    /** Whether a row at (time, created) wins over the offer kept at {@code at}: later event time, then later created time, then read later. */
    private static boolean newer(long time, long created, long[] slots, int at) {
        return slots[at + OFFER_ROW] < 0 || time > slots[at + OFFER_TIME]
                || (time == slots[at + OFFER_TIME] && created >= slots[at + OFFER_CREATED]);
    }

    int rowsRead() {
        return rowsRead;
    }

    Optional<String> pinned() {
        return pinned;
    }

    /**
     * The feature columns in entity row order: each entity row gets the latest row offered at or
     * before its slot, within {@code ttlMicros} of its time (no limit when not positive); else null.
     */
    List<ColumnValues> gather(int entityRows, long ttlMicros) {
        int[] matched = new int[entityRows];
        Arrays.fill(matched, -1);
        for (int key = 0; key < index.keyCount(); key++) {
            int bestAt = -1;
            for (int slot = index.bucketStart(key); slot < index.bucketEnd(key); slot++) {
                int at = slot * SLOT_WIDTH;
                if (slots[at + OFFER_ROW] >= 0 && (bestAt < 0 || newer(slots[at + OFFER_TIME], slots[at + OFFER_CREATED], slots, bestAt))) {
                    bestAt = at;
                }
                if (bestAt >= 0 && (ttlMicros <= 0 || slots[at + SLOT_TIME] - slots[bestAt + OFFER_TIME] <= ttlMicros)) {
                    matched[index.slotRow(slot)] = (int) slots[bestAt + OFFER_ROW];
                }
            }
        }
        List<ColumnValues> gathered = new ArrayList<>();
        for (ColumnValues feature : features) {
            gathered.add(feature.gather(matched));
        }
        return gathered;
    }

    private static int indexOf(List<Types.NestedField> fields, String name) {
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalStateException("column " + name + " missing from the scan");
    }
}
