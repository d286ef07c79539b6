package io.granary.feature.offline;

import io.granary.dataset.parquet.ParquetColumns;

import io.granary.common.GranaryException;
import io.granary.dataset.Datasets;
import io.granary.dataset.WriteOrder;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.FeatureView;
import io.granary.feature.registry.RegistryState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import org.apache.iceberg.BaseCombinedScanTask;
import org.apache.iceberg.CombinedScanTask;
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
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * One feature view's side of the in-process point-in-time join. Its rows are read in Arrow
 * batches, in parts of whole files that tasks read at once, and each is offered to the first
 * entity slot of its key at or after its event time (see {@link EntityIndex}), which keeps the
 * latest (event time, created time) offered. Walking a key's slots in time order, the latest
 * offer so far is then each entity row's point-in-time row: no feature row is sorted or bucketed,
 * and rows whose key no entity row has are dropped as they are read.
 */
final class ViewJoin {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ViewJoin.class);

    private static final int BATCH_ROWS = 64 * 1024;

    /** Per entity slot: the time, created time and row number of the latest row offered (-1: none). */
    private static final int OFFER_TIME = 0;
    private static final int OFFER_CREATED = 1;
    private static final int OFFER_ROW = 2;
    private static final int SLOT_WIDTH = 3;

    /** Entity slots per run, about: 32K, whose times and offers take a megabyte, within a core's cache. */
    private static final int SLOTS_PER_RUN = 1 << 15;

    private final String dataset;
    private final Optional<String> pinned;
    private final long fromMicros;
    private final long toMicros;
    private final TableScan scan;
    private final FileIO io;
    private final List<List<FileScanTask>> parts;
    private final int[] partStart;
    private final int[] partEnd;
    private final int[] keyAt;
    private final int timeAt;
    private final int createdAt;
    private final int[] featureAt;
    private final ColumnValues[] keys;
    private final ColumnValues times;
    private final ColumnValues created;
    private final ColumnValues[] features;
    private final int[] rowsRead;
    /** The column each scanned column is read into; null when one is read into two (then Iceberg's reader reads them). */
    private final ColumnValues[] targets;

    private ViewJoin(String dataset, Optional<String> pinned, long fromMicros, long toMicros, TableScan scan, FileIO io,
                     List<List<FileScanTask>> parts,
                     int[] partStart, int[] partEnd, int[] keyAt, int timeAt, int createdAt, int[] featureAt, ColumnValues[] keys,
                     ColumnValues times, ColumnValues created, ColumnValues[] features) {
        this.dataset = dataset;
        this.pinned = pinned;
        this.fromMicros = fromMicros;
        this.toMicros = toMicros;
        this.scan = scan;
        this.io = io;
        this.parts = parts;
        this.partStart = partStart;
        this.partEnd = partEnd;
        this.keyAt = keyAt;
        this.timeAt = timeAt;
        this.createdAt = createdAt;
        this.featureAt = featureAt;
        this.keys = keys;
        this.times = times;
        this.created = created;
        this.features = features;
        this.rowsRead = new int[parts.size()];
        ColumnValues[] byColumn = new ColumnValues[scan.schema().columns().size()];
        boolean shared = false;
        for (int k = 0; k < keyAt.length; k++) {
            shared |= target(byColumn, keyAt[k], keys[k]);
        }
        shared |= target(byColumn, timeAt, times);
        if (created != null) {
            shared |= target(byColumn, createdAt, created);
        }
        for (int f = 0; f < featureAt.length; f++) {
            shared |= target(byColumn, featureAt[f], features[f]);
        }
        this.targets = shared ? null : byColumn;
    }

    /** Reads scanned column {@code at} into {@code values}; true if another already is. */
    private static boolean target(ColumnValues[] byColumn, int at, ColumnValues values) {
        boolean taken = byColumn[at] != null;
        byColumn[at] = values;
        return taken;
    }

    /**
     * Plans reading the view's rows with event time in [fromMicros, toMicros] (the others can match
     * no entity row) in at most {@code maxParts} parts of whole data files, which may be read at once.
     */
    static ViewJoin plan(Datasets datasets, RegistryState registry, FeatureView view, List<FeatureRef> refs, Optional<Long> sourceSnapshot,
                         long fromMicros, long toMicros, int maxParts) {
        List<String> joinKeys = registry.joinKeys(view);
        Table table = datasets.load(view.source().dataset());
        Schema schema = table.schema();
        Snapshot snapshot = sourceSnapshot.map(id -> snapshotOf(table, id, view)).orElse(table.currentSnapshot());
        List<String> columns = new ArrayList<>(joinKeys);
        columns.add(view.source().timestampField());
        view.source().createdTimestamp().ifPresent(columns::add);
        refs.forEach(ref -> columns.add(ref.feature()));
        TableScan scan = table.newScan().select(columns);
        List<FileScanTask> files = new ArrayList<>();
        if (snapshot != null) {
            scan = scan.useSnapshot(snapshot.snapshotId());
            Types.NestedField timeField = schema.findField(view.source().timestampField());
            if (timeField.type().typeId() == Type.TypeID.TIMESTAMP && (fromMicros > Long.MIN_VALUE || toMicros < Long.MAX_VALUE)) {
                // files and row groups wholly outside the window are not read at all
                scan = scan.filter(Expressions.and(Expressions.greaterThanOrEqual(timeField.name(), fromMicros),
                        Expressions.lessThanOrEqual(timeField.name(), toMicros)));
            }
            try (CloseableIterable<FileScanTask> tasks = scan.planFiles()) {
                tasks.forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            files = WriteOrder.sort(table, snapshot, files);
        }
        // parts of about equal rows, each a run of files in write order: rows are offered in that
        // order, part after part, so that of rows equal in event and created time the last written
        // wins (the row of the later commit, the later row of a file), however many parts there are
        long total = files.stream().mapToLong(file -> file.file().recordCount()).sum();
        int partCount = Math.max(0, Math.min(maxParts, files.size()));
        List<List<FileScanTask>> parts = new ArrayList<>();
        long[] partRows = new long[partCount];
        long cumulative = 0;
        for (FileScanTask file : files) {
            if (parts.isEmpty() || (parts.size() < partCount && cumulative >= total * parts.size() / partCount)) {
                parts.add(new ArrayList<>());
            }
            parts.get(parts.size() - 1).add(file);
            partRows[parts.size() - 1] += file.file().recordCount();
            cumulative += file.file().recordCount();
        }
        partCount = parts.size();
        // each part fills its own range of the columns, starting on a 64-row boundary so that no two
        // parts share a word of a column's null bits
        int[] partStart = new int[partCount];
        int[] partEnd = new int[partCount];
        long capacity = 0;
        for (int p = 0; p < partCount; p++) {
            partStart[p] = (int) capacity;
            capacity += partRows[p];
            partEnd[p] = (int) capacity;
            capacity = (capacity + 63) & ~63L;
            if (capacity > Integer.MAX_VALUE - 64) {
                throw new GranaryException(view.source().dataset() + " has too many rows for the in-process engine", "use --engine spark");
            }
        }
        List<Types.NestedField> scanned = scan.schema().columns();
        int[] keyAt = new int[joinKeys.size()];
        ColumnValues[] keys = new ColumnValues[joinKeys.size()];
        for (int k = 0; k < keyAt.length; k++) {
            keyAt[k] = indexOf(scanned, joinKeys.get(k));
            keys[k] = ColumnValues.allocate(scanned.get(keyAt[k]).type(), (int) capacity);
        }
        int timeAt = indexOf(scanned, view.source().timestampField());
        ColumnValues times = ColumnValues.allocate(scanned.get(timeAt).type(), (int) capacity);
        int createdAt = view.source().createdTimestamp().map(c -> indexOf(scanned, c)).orElse(-1);
        ColumnValues created = createdAt < 0 ? null : ColumnValues.allocate(scanned.get(createdAt).type(), (int) capacity);
        int[] featureAt = new int[refs.size()];
        ColumnValues[] features = new ColumnValues[refs.size()];
        for (int f = 0; f < refs.size(); f++) {
            featureAt[f] = indexOf(scanned, refs.get(f).feature());
            features[f] = ColumnValues.allocate(scanned.get(featureAt[f]).type(), (int) capacity);
        }
        Optional<String> pinned = snapshot == null ? Optional.empty() : Optional.of(view.source().dataset() + "@" + snapshot.snapshotId());
        return new ViewJoin(view.source().dataset().toString(), pinned, fromMicros, toMicros, scan, table.io(), parts, partStart, partEnd, keyAt, timeAt,
                createdAt, featureAt, keys, times, created, features);
    }

    /** A snapshot of a view's source by id, or an error naming it (expired, or of another table). */
    static Snapshot snapshotOf(Table table, long snapshotId, FeatureView view) {
        Snapshot snapshot = table.snapshot(snapshotId);
        if (snapshot == null) {
            throw GranaryException.notFound("snapshot " + snapshotId + " of " + view.source().dataset() + " (feature view " + view.name()
                    + "'s source) is gone", "it was expired; materialize the view again to record a snapshot that exists");
        }
        return snapshot;
    }

    int parts() {
        return parts.size();
    }

    /**
     * Reads one part and offers its rows to the entity rows once {@code entityIndex} is done (rows
     * read before then wait in the columns): its rows sorted into runs of entity slots.
     */
    Runs readPart(int part, CompletableFuture<EntityIndex> entityIndex) {
        Progress progress = new Progress(part, entityIndex);
        int count = partStart[part];
        for (FileScanTask file : parts.get(part)) {
            // file by file, so that a damaged one is named
            try {
                int read = -1;
                try {
                    read = readColumns(file, part, count, progress);
                } catch (ParquetColumns.Unsupported e) {
                    // the file is read again from its first row: rows of it already counted are taken back
                    LOG.debug("{}: {}; read with Iceberg's reader", file.file().location(), e.getMessage());
                    progress.rewindTo(count);
                }
                count = read >= 0 ? read : readArrow(file, part, count, progress);
            } catch (IOException | RuntimeException e) {
                throw LocalPointInTimeJoin.unreadable(dataset, file.file().location(), e);
            }
        }
        rowsRead[part] = count - partStart[part];
        return progress.done(count);
    }

    /**
     * Reads a file's rows into the columns from {@code count} on straight from its Parquet pages;
     * returns the count after them, or -1 when the file is one for Iceberg's reader.
     */
    private int readColumns(FileScanTask file, int part, int count, Progress progress) throws IOException {
        if (targets == null) {
            return -1;
        }
        Optional<ParquetColumns> opened = ParquetColumns.open(io.newInputFile(file.file().location(), file.file().fileSizeInBytes()),
                scan.schema().columns());
        if (opened.isEmpty()) {
            return -1;
        }
        try (ParquetColumns columns = opened.get()) {
            while (columns.hasNext()) {
                // row groups wholly outside the time window are not read at all
                if (columns.nextOutside(timeAt, fromMicros, toMicros)) {
                    columns.skip();
                    continue;
                }
                long rows = columns.nextRows();
                if (count + rows > partEnd[part]) {
                    throw new IllegalStateException(dataset + " holds more rows than its files' record counts say");
                }
                columns.read(targets, count);
                count += (int) rows;
                progress.countUpTo(count);
            }
        }
        return count;
    }

    /** Reads a file's rows into the columns from {@code count} on with Iceberg's Arrow reader; returns the count after them. */
    private int readArrow(FileScanTask file, int part, int count, Progress progress) throws IOException {
        CloseableIterable<CombinedScanTask> tasks = CloseableIterable.withNoopClose(List.of(new BaseCombinedScanTask(file)));
        try (ArrowReader reader = new ArrowReader(scan, BATCH_ROWS, true);
             CloseableIterator<ColumnarBatch> batches = reader.open(tasks)) {
            while (batches.hasNext()) {
                // copied out at once: the reader reuses its vectors for the next batch, and closes them
                ColumnarBatch batch = batches.next();
                int rows = batch.numRows();
                if (count + rows > partEnd[part]) {
                    throw new IllegalStateException(dataset + " holds more rows than its files' record counts say");
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
                progress.countUpTo(count);
            }
        }
        return count;
    }

    /** A part's rows as they are read: counted into runs once the entity index is there (rows read before wait in the columns). */
    private final class Progress {

        private final int part;
        private final CompletableFuture<EntityIndex> entityIndex;
        private Runs offers;

        Progress(int part, CompletableFuture<EntityIndex> entityIndex) {
            this.part = part;
            this.entityIndex = entityIndex;
        }

        void countUpTo(int count) {
            // a failed index is reported by done(), not as the fault of the file being read
            if (offers == null && entityIndex.isDone() && !entityIndex.isCompletedExceptionally()) {
                offers = new Runs(LocalPointInTimeJoin.await(entityIndex), part);
            }
            if (offers != null) {
                offers.countUpTo(count);
            }
        }

        /** Takes back the rows counted from {@code count} on (they are read again). */
        void rewindTo(int count) {
            if (offers != null) {
                offers.rewindTo(count);
            }
        }

        Runs done(int count) {
            if (offers == null) {
                offers = new Runs(LocalPointInTimeJoin.await(entityIndex), part);
            }
            offers.countUpTo(count);
            offers.sort();
            return offers;
        }
    }

    int rowsRead() {
        return Arrays.stream(rowsRead).sum();
    }

    Optional<String> pinned() {
        return pinned;
    }

    /**
     * A run is the rows of a range of key ids: keys are numbered in slot order, so a range of
     * them owns a range of slots, SLOTS_PER_RUN of them on average.
     */
    private static int keyShift(EntityIndex index) {
        long keysPerRun = Math.max(1, (long) index.keyCount() * SLOTS_PER_RUN / Math.max(1, index.slots()));
        return 63 - Long.numberOfLeadingZeros(keysPerRun);
    }

    private static int runCount(EntityIndex index) {
        return (index.keyCount() >>> keyShift(index)) + 1;
    }

    private static long[] emptySlots(EntityIndex index) {
        long[] slots = new long[index.slots() * SLOT_WIDTH];
        for (int slot = 0; slot < index.slots(); slot++) {
            slots[slot * SLOT_WIDTH + OFFER_ROW] = -1;
        }
        return slots;
    }

    /**
     * A part's rows sorted into runs by where their key's entity slots lie. Slots are visited at
     * random, and a view's slots are far larger than a core's cache: so rows are first sorted into
     * runs of slots that fit it, and then offered run by run. The sort is a counting sort: rows
     * are counted per run as they are read, then written run by run into one array.
     */
    final class Runs {

        private final EntityIndex index;
        private final int first;
        private final int[] keyOf;
        private final int[] runStart;
        private final Object[] parts;
        private final int width;
        private final int keyShift;
        private long[] entries;
        private int counted;

        Runs(EntityIndex index, int part) {
            this.index = index;
            this.first = partStart[part];
            this.keyOf = new int[partEnd[part] - partStart[part]];
            this.runStart = new int[runCount(index) + 1];
            this.parts = new Object[keys.length];
            this.width = created == null ? 2 : 3;
            this.keyShift = keyShift(index);
            this.counted = first;
        }

        /** Finds the key of each row read up to {@code count} (-1 for rows that can match nothing) and counts it to its run. */
        void countUpTo(int count) {
            for (int row = counted; row < count; row++) {
                int keyId = -1;
                if (!times.isNull(row)) {
                    long time = times.micros(row);
                    if (time >= fromMicros && time <= toMicros) {
                        keyId = index.keyId(keys, row, parts);
                    }
                }
                keyOf[row - first] = keyId;
                if (keyId >= 0) {
                    runStart[(keyId >>> keyShift) + 1]++;
                }
            }
            counted = count;
        }

        /** Takes back the rows counted from {@code count} on. */
        void rewindTo(int count) {
            for (int row = Math.max(count, first); row < counted; row++) {
                int keyId = keyOf[row - first];
                if (keyId >= 0) {
                    runStart[(keyId >>> keyShift) + 1]--;
                }
            }
            counted = Math.min(counted, Math.max(count, first));
        }

        /** Writes the counted rows run by run: key id and row number, event time, created time if any. */
        void sort() {
            for (int r = 1; r < runStart.length; r++) {
                runStart[r] += runStart[r - 1];
            }
            int[] fill = Arrays.copyOf(runStart, runStart.length - 1);
            entries = new long[runStart[runStart.length - 1] * width];
            for (int row = first; row < counted; row++) {
                int keyId = keyOf[row - first];
                if (keyId < 0) {
                    continue;
                }
                int at = fill[keyId >>> keyShift]++ * width;
                entries[at] = (long) keyId << 32 | row;
                entries[at + 1] = times.micros(row);
                if (width == 3) {
                    entries[at + 2] = created.isNull(row) ? 0 : created.micros(row);
                }
            }
        }
    }

    /**
     * Offers the parts' rows of runs [fromRun, toRun) to their entity slots, run by run (the parts'
     * rows of a run one after the other, in read order). Runs own disjoint slots.
     */
    private static void offer(EntityIndex index, List<Runs> partRuns, long[] slots, int fromRun, int toRun) {
        for (int r = fromRun; r < toRun; r++) {
            for (Runs runs : partRuns) {
                long[] entries = runs.entries;
                int width = runs.width;
                for (int e = runs.runStart[r] * width; e < runs.runStart[r + 1] * width; e += width) {
                    int keyId = (int) (entries[e] >>> 32);
                    int row = (int) entries[e];
                    long time = entries[e + 1];
                    long made = width == 3 ? entries[e + 2] : 0;
                    // the first of the key's entity rows at or after this row's time
                    int first = index.bucketStart(keyId);
                    int end = index.bucketEnd(keyId);
                    int high = end;
                    while (first < high) {
                        int middle = (first + high) >>> 1;
                        if (index.slotTime(middle) < time) {
                            first = middle + 1;
                        } else {
                            high = middle;
                        }
                    }
                    if (first == end) {
                        continue;
                    }
                    int at = first * SLOT_WIDTH;
                    if (newer(time, made, slots, at)) {
                        slots[at + OFFER_TIME] = time;
                        slots[at + OFFER_CREATED] = made;
                        slots[at + OFFER_ROW] = row;
                    }
                }
            }
        }
    }

    /** Whether a row at (time, created) wins over the offer kept at {@code at}: later event time, then later created time, then read later. */
    private static boolean newer(long time, long created, long[] slots, int at) {
        return slots[at + OFFER_ROW] < 0 || time > slots[at + OFFER_TIME]
                || (time == slots[at + OFFER_TIME] && created >= slots[at + OFFER_CREATED]);
    }

    /**
     * Sets the matched feature row of each entity row of keys [fromKey, toKey): the latest row
     * offered at or before its slot, if within {@code ttlMicros} of its time (no limit when not positive).
     */
    private static void walk(EntityIndex index, long[] slots, int[] matched, int fromKey, int toKey, long ttlMicros) {
        for (int key = fromKey; key < toKey; key++) {
            int bestAt = -1;
            for (int slot = index.bucketStart(key); slot < index.bucketEnd(key); slot++) {
                int at = slot * SLOT_WIDTH;
                if (slots[at + OFFER_ROW] >= 0 && (bestAt < 0 || newer(slots[at + OFFER_TIME], slots[at + OFFER_CREATED], slots, bestAt))) {
                    bestAt = at;
                }
                if (bestAt >= 0 && (ttlMicros <= 0 || index.slotTime(slot) - slots[bestAt + OFFER_TIME] <= ttlMicros)) {
                    matched[index.slotRow(slot)] = (int) slots[bestAt + OFFER_ROW];
                }
            }
        }
    }

    /**
     * The feature columns in entity row order, once every part is read: each entity row gets the
     * latest row offered at or before its slot, within {@code ttlMicros} of its time (no limit when
     * not positive); else null. Each step runs in two halves, one on {@code pool}: the last view's
     * steps are what the join waits for once everything is read.
     */
    List<ColumnValues> gather(List<Runs> partRuns, EntityIndex index, int entityRows, long ttlMicros, Executor pool) {
        long[] slots = emptySlots(index);
        int runCount = runCount(index);
        inHalves(pool, () -> offer(index, partRuns, slots, 0, runCount / 2), () -> offer(index, partRuns, slots, runCount / 2, runCount));
        int[] matched = new int[entityRows];
        Arrays.fill(matched, -1);
        int keyCount = index.keyCount();
        inHalves(pool, () -> walk(index, slots, matched, 0, keyCount / 2, ttlMicros),
                () -> walk(index, slots, matched, keyCount / 2, keyCount, ttlMicros));
        ColumnValues[] gathered = new ColumnValues[features.length];
        int half = (features.length + 1) / 2;
        inHalves(pool, () -> {
            for (int f = 0; f < half; f++) {
                gathered[f] = features[f].gather(matched);
            }
        }, () -> {
            for (int f = half; f < features.length; f++) {
                gathered[f] = features[f].gather(matched);
            }
        });
        return List.of(gathered);
    }

    /**
     * Runs {@code first} here and {@code second} on the pool, or here too if no thread of the pool
     * has taken it by then (so that tasks waiting on halves can never wait on each other).
     */
    private static void inHalves(Executor pool, Runnable first, Runnable second) {
        FutureTask<Void> other = new FutureTask<>(second, null);
        pool.execute(other);
        first.run();
        other.run();
        LocalPointInTimeJoin.await(other);
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
