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
 * Streams of table snapshots from the node's cache, in static mode: a request is pinned to the
 * snapshot its ref names ({@link #pin}), the snapshot staged if needed, and each rank's rows read
 * from the cached files as the epoch's plan says.
 */
public final class TableStreams {

    private final NodeCache cache;

    public TableStreams(NodeCache cache) {
        this.cache = cache;
    }

    /** The request with its ref resolved to a snapshot id, so every rank reads the same snapshot. */
    public StreamRequest pin(StreamRequest request) {
        ResolvedRef resolved = cache.datasets().resolve(request.dataset());
        long snapshot = resolved.snapshot().orElseThrow(() -> new GranaryException(
                "dataset " + request.dataset() + " has no snapshot yet: there is nothing to stream", "write data into it first")).snapshotId();
        return request.withDataset(DatasetRef.at(request.dataset().dataset(), snapshot));
    }

    /** What a planned stream of a pinned request is: its columns, its units, and the rows a rank gets. */
    public record Planned(StreamRequest request, SnapshotFiles files, List<Types.NestedField> fields, EpochPlan epoch) {
        public RankPlan rank(int rank) {
            return request.consumed().isPresent()
                    ? epoch.rank(rank, request.worldSize(), request.dropLast(), request.shuffleBuffer(), request.consumed().get())
                    : epoch.rank(rank, request.worldSize(), request.dropLast(), request.shuffleBuffer());
        }
    }

    /** Stages the pinned request's snapshot (if needed) and plans its epoch. */
    public Planned plan(StreamRequest pinned) {
        if (pinned.mode() != StreamRequest.Mode.STATIC) {
            throw new GranaryException("descriptor key 'mode': dynamic streams are not served yet", "use \"mode\": \"static\"");
        }
        if (pinned.filter().isPresent()) {
            throw new GranaryException("descriptor key 'filter': filters are not pushed down yet", "leave filter out and filter in the consumer");
        }
        ResolvedRef resolved = cache.datasets().resolve(pinned.dataset());
        Schema schema = resolved.schema();
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
        SnapshotFiles files = cache.resolve(pinned.dataset());
        if (!files.kind().equals("table")) {
            throw new GranaryException(pinned.dataset() + " is a packed media set: streams of packed sets are not served yet", "stream a table");
        }
        cache.stage(files, cache.settings().parallel(), false, java.util.Optional.empty());
        EpochPlan epoch = EpochPlan.of(SnapshotUnits.of(files, cache.entryFiles()), pinned.seed(), pinned.epoch(), pinned.shuffle());
        return new Planned(pinned, files, fields, epoch);
    }

    /** Whether every file of a planned stream is still in the cache (none evicted since it was planned). */
    public boolean cached(Planned planned) {
        return planned.files().remote().stream().allMatch(file -> java.nio.file.Files.isRegularFile(cache.entryFiles().path(file.entryId())));
    }

    /** Rank {@code rank}'s rows of a planned stream, from its {@code start_row} on. */
    public RankStream open(Planned planned, int rank, BufferAllocator allocator) {
        if (rank < 0 || rank >= planned.request().worldSize()) {
            throw new GranaryException("rank " + rank + " is out of range for world_size " + planned.request().worldSize(),
                    "ranks are 0 to world_size - 1");
        }
        RankPlan plan = planned.rank(rank);
        if (planned.request().startRow() > plan.rows()) {
            throw new GranaryException("descriptor key 'start_row' is " + planned.request().startRow() + ", past the " + plan.rows()
                    + " rows rank " + rank + " has in this epoch", "start_row counts the rows this rank consumed in this epoch");
        }
        Map<String, Path> paths = new HashMap<>();
        for (SnapshotFiles.Remote file : planned.files().remote()) {
            paths.put(file.name(), cache.entryFiles().path(file.entryId()));
        }
        return new RankStream(paths::get, planned.fields(), plan.slices(planned.request().startRow()), planned.request().batchRows(), allocator);
    }
}
