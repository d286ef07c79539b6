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
                          List<String> upstream, List<Column> outputColumns, boolean passThrough, Action action, String reason,
                          Optional<NodeOutput> existing, boolean rowLocal) {

    public String id() {
        return spec.id();
    }
}
