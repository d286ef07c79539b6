package io.granary.sample.template;

import io.granary.common.yaml.YamlNode;
import java.util.Map;

/**
 * A node of a template's DAG: its id, the component that runs it, and its arguments as written
 * (values, or references to parameters and earlier nodes: see {@link Binding}).
 */
public record NodeSpec(String id, String component, Map<String, YamlNode> with, YamlNode node) {

    public NodeSpec {
        with = Map.copyOf(new java.util.LinkedHashMap<>(with));
    }
}
