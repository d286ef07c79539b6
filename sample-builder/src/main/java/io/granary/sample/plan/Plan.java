package io.granary.sample.plan;

import io.granary.sample.config.PipelineConfig;
import io.granary.sample.template.Template;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A pipeline resolved and checked against the catalog: its parameter values and every node, in an order that runs upstream first. */
public record Plan(PipelineConfig config, Template template, Map<String, Object> params, Map<String, String> paramOrigins,
                   List<PlannedNode> nodes) {

    public Optional<PlannedNode> node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst();
    }

    /** The nodes that compute something: RUN and INCREMENTAL ones. */
    public long toRun() {
        return nodes.stream().filter(n -> n.action() == Action.RUN || n.action() == Action.INCREMENTAL && !n.passThrough()).count();
    }
}
