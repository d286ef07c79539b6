package io.granary.sample.plan;

import io.granary.sample.component.Column;
import io.granary.sample.component.Component;
import io.granary.sample.template.NodeSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node as planned: its component, its fingerprint and what the fingerprint was made of (for
 * saying what changed), the columns its output will have, whether it runs and why, and its
 * committed output when it is skipped.
 */
public record PlannedNode(NodeSpec spec, Component component, String fingerprint, Map<String, Object> canonicalArgs,
                          Map<String, String> reads, List<String> upstream, List<Column> outputColumns, boolean passThrough, Action action,
                          String reason, Optional<NodeOutput> existing, boolean rowLocal, Optional<Increment> increment) {

    /**
     * How an incremental node runs: its last output, to which it adds (or, for a mergeable node,
     * into which it merges), and where its new input rows come from (a dataset's appended rows, or
     * the rows an upstream node just added).
     */
    public record Increment(NodeOutput previous, Optional<io.granary.sample.component.TableArg> appendedRows, Optional<String> fromNode,
                            boolean merge) {}

    public String id() {
        return spec.id();
    }
}
