package io.granary.sample.run;

import java.util.List;
import java.util.Map;

/**
 * One node of a run, as recorded: what was planned (fingerprint and what it was made of, run or
 * skip and why) and what happened (status, attempts, rows, time, outputs, values, error). Its outputs
 * are its node table, or the user's datasets it wrote ({@code published}), each as NS.NAME@SNAPSHOT; its
 * engine says whether it ran on Spark or in this process.
 */
public record NodeRecord(String id, String component, String componentVersion, String fingerprint, Map<String, Object> canonicalArgs,
                         String action, String reason, String status, int attempts, long rows, long millis, List<String> outputs,
                         boolean published, Map<String, Object> values, String error, String engine) {

    public NodeRecord {
        canonicalArgs = canonicalArgs == null ? Map.of() : canonicalArgs;
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        values = values == null ? Map.of() : values;
        error = error == null ? "" : error;
        engine = engine == null ? "" : engine;
    }

    NodeRecord with(String newStatus, int newAttempts, long newRows, long newMillis, List<String> newOutputs, Map<String, Object> newValues,
                    String newError) {
        return new NodeRecord(id, component, componentVersion, fingerprint, canonicalArgs, action, reason, newStatus, newAttempts, newRows,
                newMillis, newOutputs, published, newValues, newError, engine);
    }

    NodeRecord publishing(boolean isPublished) {
        return new NodeRecord(id, component, componentVersion, fingerprint, canonicalArgs, action, reason, status, attempts, rows, millis, outputs,
                isPublished, values, error, engine);
    }

    /** The same node, recorded as run on Spark or in this process. */
    NodeRecord ranOn(String newEngine) {
        return new NodeRecord(id, component, componentVersion, fingerprint, canonicalArgs, action, reason, status, attempts, rows, millis, outputs,
                published, values, error, newEngine);
    }
}
