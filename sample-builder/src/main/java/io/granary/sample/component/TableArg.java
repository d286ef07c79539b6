package io.granary.sample.component;

import java.util.List;
import java.util.Optional;

/**
 * A table a node reads: a dataset at a snapshot (a pipeline input, or the table an upstream node
 * wrote). Before the upstream node has run, only its columns are known.
 */
public record TableArg(String dataset, Optional<Long> snapshotId, List<Column> columns) {

    public TableArg {
        columns = List.copyOf(columns);
    }

    public Optional<Column> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public List<String> columnNames() {
        return columns.stream().map(Column::name).toList();
    }

    /** "ns.name@snapshot", for lineage. */
    public String pinned() {
        return snapshotId.map(id -> dataset + "@" + id).orElse(dataset);
    }
}
