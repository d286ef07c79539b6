package io.granary.sample.template;

import java.util.List;
import java.util.Optional;

/**
 * A sample pipeline template: typed parameters and a DAG of nodes (components with arguments bound
 * to parameters and to earlier nodes' outputs and values). A pipeline config names a template and
 * fills its parameters. {@code text} is the file as written: a changed text is a new version.
 */
public record Template(String name, int version, String description, List<Param> params, List<NodeSpec> nodes, String source,
                       String text) {

    public Template {
        params = List.copyOf(params);
        nodes = List.copyOf(nodes);
    }

    public Optional<Param> param(String name) {
        return params.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public Optional<NodeSpec> node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst();
    }

    /** "name@version". */
    public String id() {
        return name + "@" + version;
    }
}
