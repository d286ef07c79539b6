package io.granary.sample.config;

import io.granary.common.Durations;
import io.granary.common.GranaryException;
import io.granary.common.yaml.YamlNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A sample pipeline config: its name, the template it fills (NAME or NAME@VERSION), the parameter
 * values as written (each keeps its file:line), and how failed nodes are retried.
 *
 * <pre>
 * pipeline: ctr_samples
 * template: standard-samples
 * params:
 *   labels: demo.clicks
 *   ...
 * retries: {count: 2, backoff: 5s}
 * </pre>
 */
public record PipelineConfig(String name, String template, String templateWhere, String description, Map<String, YamlNode> params,
                             YamlNode paramsNode, Retries retries, Path file) {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,47}");

    /** How often a failed node is tried again, and how long to wait before the first retry (doubling after). */
    public record Retries(int count, Duration backoff) {
        public static Retries defaults() {
            return new Retries(2, Duration.ofSeconds(2));
        }
    }

    public PipelineConfig {
        params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    public static PipelineConfig parse(Path file) {
        YamlNode root = YamlNode.parse(file);
        if (root.isNull()) {
            throw new GranaryException(file + " is empty", "write pipeline:, template: and params: (see examples/pipelines/ctr.yaml)");
        }
        Map<String, YamlNode> top = root.asMapWithKeys(List.of("pipeline", "template", "description", "params", "retries"));
        YamlNode nameNode = root.required(top, "pipeline");
        String name = nameNode.asString().trim();
        if (!NAME.matcher(name).matches()) {
            throw nameNode.error("illegal pipeline name '" + name + "'",
                    "lowercase letters, digits and underscores, starting with a letter, at most 48");
        }
        YamlNode templateNode = root.required(top, "template");
        String template = templateNode.asString().trim();
        String description = YamlNode.optional(top, "description").map(YamlNode::asString).orElse("");
        YamlNode paramsNode = top.getOrDefault("params", root);
        Map<String, YamlNode> params = YamlNode.optional(top, "params").map(YamlNode::asMap).orElse(Map.of());
        Retries retries = Retries.defaults();
        if (YamlNode.optional(top, "retries").isPresent()) {
            YamlNode retriesNode = top.get("retries");
            Map<String, YamlNode> entries = retriesNode.asMapWithKeys(List.of("count", "backoff"));
            int count = YamlNode.optional(entries, "count").map(YamlNode::asInt).orElse(retries.count());
            if (count < 0 || count > 100) {
                throw entries.get("count").error("retries.count " + count + " is out of range", "give 0 to 100");
            }
            Duration backoff = retries.backoff();
            if (YamlNode.optional(entries, "backoff").isPresent()) {
                try {
                    backoff = Durations.parse(entries.get("backoff").asString(), "retries.backoff");
                } catch (GranaryException e) {
                    throw entries.get("backoff").error(e.getMessage(), e.hint());
                }
            }
            retries = new Retries(count, backoff);
        }
        return new PipelineConfig(name, template, templateNode.where(), description, params, paramsNode, retries, file);
    }
}
