package io.granary.dataset;

import java.util.Optional;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/** A dataset ref pinned to a snapshot: empty when the dataset has no snapshot yet. */
public record ResolvedRef(DatasetRef ref, Table table, Optional<Snapshot> snapshot) {

    /** The schema the rows of this snapshot have (the table's current one when there are none). */
    public Schema schema() {
        return snapshot.map(s -> s.schemaId() == null ? table.schema() : table.schemas().getOrDefault(s.schemaId(), table.schema()))
                .orElse(table.schema());
    }

    /** The ref with its snapshot id spelled out, e.g. "demo.clicks@4711", for lineage. */
    public String pinned() {
        return snapshot.map(s -> ref.dataset() + "@" + s.snapshotId()).orElse(ref.dataset().toString());
    }
}
