package io.granary.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * What made a commit, recorded in its Iceberg snapshot summary: the command, a run id, who ran
 * it, and its inputs (dataset refs pinned to snapshot ids, e.g. "demo.clicks@4711", or file URIs).
 * Any Iceberg reader sees these as {@code granary.*} summary properties.
 */
public record Provenance(String command, String runId, String user, List<String> inputs, Map<String, String> properties) {

    public static final String COMMAND = "granary.command";
    public static final String RUN_ID = "granary.run-id";
    public static final String USER = "granary.user";
    public static final String INPUTS = "granary.inputs";

    private static final ObjectMapper JSON = new ObjectMapper();

    public Provenance {
        inputs = List.copyOf(inputs);
        properties = Map.copyOf(properties);
    }

    public Provenance(String command, String runId, String user, List<String> inputs) {
        this(command, runId, user, inputs, Map.of());
    }

    /** A new run of {@code command} by the current OS user. */
    public static Provenance of(String command, List<String> inputs) {
        return new Provenance(command, UUID.randomUUID().toString(), System.getProperty("user.name", "unknown"), inputs);
    }

    /** The same run with other inputs (e.g. once the input files are known). */
    public Provenance withInputs(List<String> newInputs) {
        return new Provenance(command, runId, user, newInputs, properties);
    }

    /** The same run, its commits recording these {@code granary.*} summary properties too. */
    public Provenance withProperties(Map<String, String> more) {
        Map<String, String> all = new LinkedHashMap<>(properties);
        all.putAll(more);
        return new Provenance(command, runId, user, inputs, all);
    }

    public Map<String, String> toSummary() {
        Map<String, String> summary = new LinkedHashMap<>();
        summary.put(COMMAND, command);
        summary.put(RUN_ID, runId);
        summary.put(USER, user);
        try {
            summary.put(INPUTS, JSON.writeValueAsString(inputs));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        summary.putAll(properties);
        return summary;
    }

    /** The provenance in a snapshot summary, if Granary (or a tool following it) made the snapshot. */
    public static Optional<Provenance> fromSummary(Map<String, String> summary) {
        if (summary == null || !summary.containsKey(COMMAND)) {
            return Optional.empty();
        }
        List<String> inputs = List.of();
        String json = summary.get(INPUTS);
        if (json != null) {
            try {
                inputs = JSON.readValue(json, new TypeReference<List<String>>() {});
            } catch (JsonProcessingException e) {
                inputs = List.of(json);
            }
        }
        return Optional.of(new Provenance(summary.get(COMMAND), summary.getOrDefault(RUN_ID, ""),
                summary.getOrDefault(USER, ""), inputs));
    }
}
