package io.granary.sample.template;

import io.granary.common.yaml.YamlNode;
import java.util.List;
import java.util.Optional;

/**
 * A template parameter: its type, whether a config must give it, its default, the values it may
 * take (empty: any of its type) and the help text `granary sample template show` prints.
 */
public record Param(String name, ParamType type, boolean required, Optional<Object> defaultValue, List<Object> allowed, String help,
                    YamlNode node) {

    public Param {
        allowed = List.copyOf(allowed);
    }
}
