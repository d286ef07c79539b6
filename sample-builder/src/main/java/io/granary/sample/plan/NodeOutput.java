package io.granary.sample.plan;

import io.granary.sample.component.TableArg;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node's committed output: the table downstream nodes read (none for a node that only publishes
 * datasets), the datasets it published, its row count, the values it computed and the run that
 * committed it.
 */
public record NodeOutput(Optional<TableArg> table, List<String> published, long rows, Map<String, Object> values, String runId) {

    public NodeOutput {
        published = List.copyOf(published);
        values = Map.copyOf(values);
    }
}
