package io.granary.cache.stream;

import io.granary.cache.NodeCache;
import io.granary.cache.stage.SnapshotFiles;
import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.ResolvedRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * Streams of snapshots (tables and packed sets) from the node's cache, in static mode: a request is pinned to the
 * snapshot its ref names ({@link #pin}), the snapshot staged if needed, and each rank's rows read
 * from the cached files as the epoch's plan says.
 */
public final class SnapshotStreams implements AutoCloseable {

    private final NodeCache cache;
    /**
     * What a pinned snapshot's streams share whatever their epoch, seed or world size: its staged
     * files, units (the footers read, a filter applied) and how they read. A new epoch only reorders.
     */
    private final java.util.Map<String, Snapshot> snapshots = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, Snapshot> eldest) {
            if (size() > SNAPSHOTS_KEPT) {
                unpin(eldest.getValue().pinId());
                eldest.getValue().units().release();
                return true;
            }
            return false;
        }
    });
    /** Holds the pins: they die with this process, so a server that stops or crashes leaves nothing pinned. */
    private final io.granary.cache.store.Owner owner = io.granary.cache.store.Owner.thisProcess();

    private static final int SNAPSHOTS_KEPT = 16;

    /** @param pinId the pin that keeps the snapshot's files cached while streams may read them */
    private record Snapshot(SnapshotFiles files, UnitReader units, List<StreamUnit> order, String pinId) {}

    public SnapshotStreams(NodeCache cache) {
        this.cache = cache;
    }

    /** Refs to a snapshot id found in the catalog already: a snapshot never changes, so they are not looked up again for every call. */
    private final java.util.Set<DatasetRef> known = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The request with its ref resolved to a snapshot id, so every rank reads the same snapshot. */
    public StreamRequest pin(StreamRequest request) {
        if (known.contains(request.dataset())) {
            return request;
        }
        ResolvedRef resolved = cache.datasets().resolve(request.dataset());
        long snapshot = resolved.snapshot().orElseThrow(() -> new GranaryException(
                "dataset " + request.dataset() + " has no snapshot yet: there is nothing to stream", "write data into it first")).snapshotId();
        DatasetRef pinned = DatasetRef.at(request.dataset().dataset(), snapshot);
        if (known.size() < 10_000) {
            known.add(pinned);
        }
        return request.withDataset(pinned);
    }

    /** What a planned stream of a pinned request is: how its units read, and the epoch's order of them. */
    public record Planned(StreamRequest request, SnapshotFiles files, UnitReader units, EpochPlan epoch) {
        public RankPlan rank(int rank) {
            return request.consumed().isPresent()
                    ? epoch.rank(rank, request.worldSize(), request.dropLast(), request.shuffleBuffer(), request.consumed().get())
                    : epoch.rank(rank, request.worldSize(), request.dropLast(), request.shuffleBuffer());
        }

        /** The Arrow schema of the stream's batches. */
        public org.apache.arrow.vector.types.pojo.Schema schema() {
            return units.schema();
        }
    }

    /** Stages the pinned request's snapshot (if needed) and plans its epoch. */
    public Planned plan(StreamRequest pinned) {
        if (pinned.mode() == StreamRequest.Mode.DYNAMIC && (pinned.startRow() != 0 || pinned.consumed().isPresent())) {
            throw new GranaryException("descriptor key '" + (pinned.startRow() != 0 ? "start_row" : "consumed") + "' does not apply to a dynamic stream",
                    "a dynamic epoch resumes by itself: workers that ask again get the units not yet delivered");
        }
        String key = pinned.dataset() + "|" + pinned.columns() + "|" + pinned.filter();
        Snapshot snapshot = snapshots.get(key);
        if (snapshot == null || !cached(snapshot.files())) {
            if (snapshot != null) {
                unpin(snapshot.pinId());
                snapshot.units().release();
            }
            snapshot = snapshot(pinned);
            snapshots.put(key, snapshot);
        }
        EpochPlan epoch = EpochPlan.of(snapshot.order(), pinned.seed(), pinned.epoch(), pinned.shuffle());
        return new Planned(pinned, snapshot.files(), snapshot.units(), epoch);
    }

    private Snapshot snapshot(StreamRequest pinned) {
        ResolvedRef resolved = cache.datasets().resolve(pinned.dataset());
        SnapshotFiles files = cache.resolve(pinned.dataset());
        String pinId = "stream-" + owner.token() + "-" + java.util.UUID.randomUUID();
        cache.stage(files, cache.settings().parallel(), false, java.util.Optional.of(new io.granary.cache.store.Pin(pinId, files.key(), "stream",
                "streams of `granary serve data` (pid " + owner.pid() + ")", owner, System.currentTimeMillis())));
        Map<String, Path> paths = new HashMap<>();
        for (SnapshotFiles.Remote file : files.remote()) {
            paths.put(file.name(), cache.entryFiles().path(file.entryId()));
        }
        List<StreamUnit> snapshotUnits = SnapshotUnits.of(files, cache.entryFiles());
        UnitReader units;
        if (files.kind().equals("shards")) {
            if (pinned.filter().isPresent()) {
                throw new GranaryException("descriptor key 'filter': filters on packed sets are not pushed down yet",
                        "make a filtered dataset with the media-samples template (its filter takes index and metadata columns) and stream that");
            }
            units = ShardUnits.of(pinned.dataset().dataset().toString(), shardFiles(files, paths), resolved.schema(), pinned.columns());
        } else {
            List<Types.NestedField> fields = tableFields(pinned, resolved.schema());
            Map<StreamUnit, int[]> selections = Map.of();
            if (pinned.filter().isPresent()) {
                TableFilter.Result filtered = filter(pinned.filter().get(), resolved.schema(), snapshotUnits, paths);
                snapshotUnits = filtered.units();
                selections = filtered.selections();
            }
            java.util.Optional<DatasetRef> shardSet = hasIndexColumns(resolved.schema()) ? shardSetOf(resolved) : java.util.Optional.empty();
            if (shardSet.isPresent()) {
                units = withMembers(shardSet.get(), pinId, resolved.schema(), fields, selections, paths, files);
            } else {
                units = new TableUnits(paths::get, fields, selections);
            }
        }
        return new Snapshot(files, units, snapshotUnits, pinId);
    }

    /** Whether a table's rows carry a shard set's index columns (as a media-samples output's do). */
    private static boolean hasIndexColumns(Schema schema) {
        for (String name : MemberBytes.INDEX) {
            Types.NestedField field = schema.findField(name);
            org.apache.iceberg.types.Type.TypeID wanted = name.equals("offset") || name.equals("size")
                    ? org.apache.iceberg.types.Type.TypeID.LONG : org.apache.iceberg.types.Type.TypeID.STRING;
            if (field == null || field.type().typeId() != wanted) {
                return false;
            }
        }
        return true;
    }

    /** The shard set a table's rows were made from, found through its snapshots' provenance (a few steps back at most). */
    private java.util.Optional<DatasetRef> shardSetOf(ResolvedRef table) {
        java.util.ArrayDeque<String> inputs = new java.util.ArrayDeque<>();
        table.snapshot().flatMap(s -> io.granary.dataset.Provenance.fromSummary(s.summary())).ifPresent(p -> inputs.addAll(p.inputs()));
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (!inputs.isEmpty() && seen.size() < 64) {
            String input = inputs.poll();
            if (!seen.add(input) || input.contains("://")) {
                continue;
            }
            try {
                DatasetRef ref = DatasetRef.parse(input);
                if (!cache.datasets().exists(ref.dataset())) {
                    continue;
                }
                ResolvedRef resolved = cache.datasets().resolve(ref);
                if (io.granary.packer.ShardSet.locationOf(resolved.table()).isPresent()) {
                    return java.util.Optional.of(ref);
                }
                resolved.snapshot().flatMap(s -> io.granary.dataset.Provenance.fromSummary(s.summary())).ifPresent(p -> inputs.addAll(p.inputs()));
            } catch (GranaryException e) {
                // an input that is gone (a dropped scratch table, an expired snapshot): its lineage ends here
            }
        }
        return java.util.Optional.empty();
    }

    /** The table's units with its members' bytes from {@code shardSet}, staged and pinned beside it. */
    private UnitReader withMembers(DatasetRef shardSet, String pinId, Schema schema, List<Types.NestedField> fields,
                                   Map<StreamUnit, int[]> selections, Map<String, Path> paths, SnapshotFiles files) {
        SnapshotFiles shards = cache.resolve(shardSet);
        cache.stage(shards, cache.settings().parallel(), false, java.util.Optional.of(new io.granary.cache.store.Pin(pinId + "-members", shards.key(),
                "stream", "members for streams of `granary serve data` (pid " + owner.pid() + ")", owner, System.currentTimeMillis())));
        Map<String, Path> shardPaths = new HashMap<>();
        for (SnapshotFiles.Remote file : shards.remote()) {
            if (file.kind().equals("shard")) {
                shardPaths.put(file.name(), cache.entryFiles().path(file.entryId()));
            }
        }
        List<Types.NestedField> read = new ArrayList<>(fields);
        MemberBytes.INDEX.forEach(name -> read.add(schema.findField(name)));
        return new MemberBytes(new TableUnits(paths::get, read, selections), fields.size(), RowGroupBatches.distinctStrings(
                files.remote().stream().map(file -> paths.get(file.name())).toList(), schema.findField("ext")), shardPaths);
    }


    private static TableFilter.Result filter(String text, Schema schema, List<StreamUnit> units, Map<String, Path> paths) {
        org.apache.iceberg.expressions.Expression expression = StreamFilter.parse(text);
        java.util.Set<Integer> ids = StreamFilter.bind(text, expression, schema);
        List<Types.NestedField> columns = new ArrayList<>();
        for (Types.NestedField column : schema.columns()) {
            if (ids.contains(column.fieldId())) {
                if (!ArrowColumn.supports(column.type().typeId())) {
                    throw new GranaryException("descriptor key 'filter': column '" + column.name() + "' is " + column.type() + ", which filters do not read",
                            "filter on columns of primitive types");
                }
                columns.add(column);
            }
        }
        if (columns.size() != ids.size()) {
            throw new GranaryException("descriptor key 'filter': '" + text + "' names a nested field", "filter on top-level columns");
        }
        return TableFilter.apply(units, paths::get, schema, expression, columns);
    }

    private static List<Types.NestedField> tableFields(StreamRequest pinned, Schema schema) {
        List<Types.NestedField> fields = new ArrayList<>();
        for (String column : pinned.columns().orElse(schema.columns().stream().map(Types.NestedField::name).toList())) {
            Types.NestedField field = schema.findField(column);
            if (field == null || schema.columns().stream().noneMatch(f -> f.fieldId() == field.fieldId())) {
                throw new GranaryException("descriptor key 'columns': " + pinned.dataset().dataset() + " has no top-level column '" + column + "'",
                        "its columns are " + String.join(", ", schema.columns().stream().map(Types.NestedField::name).toList()));
            }
            if (!ArrowColumn.supports(field.type().typeId())) {
                throw new GranaryException("descriptor key 'columns': column '" + column + "' is " + field.type() + ", which streams do not send yet",
                        "project the columns of primitive types (numbers, booleans, dates, timestamps, strings, binaries)");
            }
            fields.add(field);
        }
        return fields;
    }

    /** Each shard's cached file and index part, by the shard's name. */
    private static Map<String, ShardUnits.ShardFiles> shardFiles(SnapshotFiles files, Map<String, Path> paths) {
        SnapshotFiles.Generated manifestFile = files.generated().stream().filter(g -> g.name().equals(io.granary.packer.Manifest.FILE_NAME))
                .findFirst().orElseThrow(() -> new IllegalStateException("the packed set " + files.key() + " has no manifest"));
        Map<String, ShardUnits.ShardFiles> shards = new java.util.LinkedHashMap<>();
        for (io.granary.packer.Manifest.Shard shard : io.granary.packer.Manifest.parse(manifestFile.content(), files.key()).shards()) {
            shards.put(shard.name(), new ShardUnits.ShardFiles(paths.get(shard.name()), paths.get(shard.index())));
        }
        return shards;
    }

    /** Whether every file of a planned stream is still in the cache (none evicted since it was planned). */
    public boolean cached(Planned planned) {
        return cached(planned.files());
    }

    private boolean cached(SnapshotFiles files) {
        return files.remote().stream().allMatch(file -> java.nio.file.Files.isRegularFile(cache.entryFiles().path(file.entryId())));
    }

    private void unpin(String pinId) {
        cache.store().transact(txn -> {
            txn.deletePin(pinId);
            txn.deletePin(pinId + "-members");
            return null;
        });
    }

    /** Unpins every snapshot kept for streams. */
    @Override
    public void close() {
        synchronized (snapshots) {
            snapshots.values().forEach(snapshot -> {
                unpin(snapshot.pinId());
                snapshot.units().release();
            });
            snapshots.clear();
        }
    }

    /** Refuses a rank (or a start_row) the planned stream does not have, naming it. */
    public void check(Planned planned, int rank) {
        if (planned.request().mode() == StreamRequest.Mode.DYNAMIC) {
            return;
        }
        if (rank < 0 || rank >= planned.request().worldSize()) {
            throw new GranaryException("rank " + rank + " is out of range for world_size " + planned.request().worldSize(),
                    "ranks are 0 to world_size - 1");
        }
        RankPlan plan = planned.rank(rank);
        if (planned.request().startRow() > plan.rows()) {
            throw new GranaryException("descriptor key 'start_row' is " + planned.request().startRow() + ", past the " + plan.rows()
                    + " rows rank " + rank + " has in this epoch", "start_row counts the rows this rank consumed in this epoch");
        }
    }

    /** Rank {@code rank}'s rows of a planned static stream, from its {@code start_row} on. */
    public RankStream open(Planned planned, int rank, BufferAllocator allocator) {
        return open(planned, rank, allocator, null);
    }

    /** As {@link #open(Planned, int, BufferAllocator)}, each next unit decoded ahead on {@code prefetcher} (when not null). */
    RankStream open(Planned planned, int rank, BufferAllocator allocator, java.util.concurrent.Executor prefetcher) {
        check(planned, rank);
        RankPlan plan = planned.rank(rank);
        List<EpochPlan.Slice> slices = plan.slices(planned.request().startRow());
        return prefetcher == null ? new RankStream(planned.units(), slices, planned.request().batchRows(), allocator)
                : new RankStream(planned.units(), slices, planned.request().batchRows(), allocator, prefetcher);
    }
}
