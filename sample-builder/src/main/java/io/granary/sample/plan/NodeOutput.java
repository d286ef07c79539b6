package io.granary.sample.plan;

import io.granary.sample.component.TableArg;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node's committed output: the table downstream nodes read (none for a node that only publishes
 * datasets), the datasets it published, its row count, the values it computed and the run that
 * committed it; after an incremental run, also the part holding only the rows it added.
 */
public record NodeOutput(Optional<TableArg> table, List<String> published, long rows, Map<String, Object> values, String runId,
                         Optional<TableArg> delta) {

    public NodeOutput {
        published = List.copyOf(published);
        values = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(values));
    }

    public NodeOutput(Optional<TableArg> table, List<String> published, long rows, Map<String, Object> values, String runId) {
        this(table, published, rows, values, runId, Optional.empty());
    }
}
