package io.granary.sample.component;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A table a node reads: a dataset at a snapshot (a pipeline input, or the table an upstream node
 * wrote), or the union of several such parts (a node that took appended rows incrementally keeps
 * its earlier output and adds the new rows as a part). A part may be only the rows appended to a
 * dataset since an earlier snapshot. Before the upstream node has run, only its columns are known.
 */
public record TableArg(List<Part> parts, List<Column> columns) {

    /** One table at a snapshot; with {@code since}, only the rows appended after that snapshot. */
    public record Part(String dataset, Optional<Long> snapshotId, Optional<Long> since) {

        /** "ns.name@snapshot" (for lineage: the snapshot read, appended rows only or not). */
        public String pinned() {
            return dataset + snapshotId.map(id -> "@" + id).orElse("");
        }

        /** "ns.name@snapshot", or "ns.name@since..snapshot" for the rows appended after {@code since} only. */
        public String describe() {
            return dataset + snapshotId.map(id -> "@" + since.map(s -> s + "..").orElse("") + id).orElse("");
        }
    }

    public TableArg {
        parts = List.copyOf(parts);
        columns = List.copyOf(columns);
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("a table of no parts");
        }
    }

    /** A dataset at a snapshot. */
    public TableArg(String dataset, Optional<Long> snapshotId, List<Column> columns) {
        this(List.of(new Part(dataset, snapshotId, Optional.empty())), columns);
    }

    /** The same table with these parts. */
    public TableArg withParts(List<Part> newParts) {
        return new TableArg(newParts, columns);
    }

    /** Whether it is one whole table at one snapshot (not a union, not appended rows only). */
    public boolean isWhole() {
        return parts.size() == 1 && parts.get(0).since().isEmpty();
    }

    /** The newest part's dataset: the table's name in messages. */
    public String dataset() {
        return parts.get(parts.size() - 1).dataset();
    }

    /** The snapshot of a whole table (see {@link #isWhole()}). */
    public Optional<Long> snapshotId() {
        return parts.get(parts.size() - 1).snapshotId();
    }

    public Optional<Column> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public List<String> columnNames() {
        return columns.stream().map(Column::name).toList();
    }

    /** Every part pinned, for lineage. */
    public List<String> pinnedParts() {
        return parts.stream().map(Part::pinned).toList();
    }

    /** The parts described and joined with "+", for messages and fingerprints. */
    public String pinned() {
        return parts.stream().map(Part::describe).collect(Collectors.joining("+"));
    }
}
