package io.granary.sample.run;

import java.util.List;

/**
 * A run of a pipeline as `granary sample runs` and `sample show` print it: which config and
 * template, when, how it ended, and every node. Kept as JSON, rewritten atomically as nodes finish.
 */
public record RunRecord(String runId, String pipeline, String config, String template, String engine, String status, long startedMillis,
                        long finishedMillis, long pid, List<NodeRecord> nodes, String error) {

    public static final String RUNNING = "running";
    public static final String SUCCEEDED = "succeeded";
    public static final String FAILED = "failed";

    public RunRecord {
        nodes = List.copyOf(nodes);
        error = error == null ? "" : error;
    }

    RunRecord withNode(NodeRecord node) {
        List<NodeRecord> updated = nodes.stream().map(n -> n.id().equals(node.id()) ? node : n).toList();
        return new RunRecord(runId, pipeline, config, template, engine, status, startedMillis, finishedMillis, pid, updated, error);
    }

    RunRecord finished(String newStatus, long atMillis, String newError) {
        return new RunRecord(runId, pipeline, config, template, engine, newStatus, startedMillis, atMillis, pid, nodes, newError);
    }

    public java.util.Optional<NodeRecord> node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst();
    }
}
