package io.granary.sample.template;

import io.granary.common.GranaryException;
import io.granary.common.yaml.YamlNode;
import io.granary.sample.component.Argument;
import io.granary.sample.component.Component;
import io.granary.sample.component.Components;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a template file and checks everything that needs no catalog: its shape, parameter types
 * and defaults, that each node's component exists and gets the arguments it takes, and that every
 * reference names a parameter or node that exists, with no cycle. Each error names file:line.
 */
public final class TemplateParser {

    static final Pattern TEMPLATE_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,63}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");

    private TemplateParser() {}

    /** Parses {@code text} (from {@code source}, a file or "built-in NAME"). */
    public static Template parse(String text, String source, Components components) {
        YamlNode root = YamlNode.parse(text, source);
        Map<String, YamlNode> top = root.asMapWithKeys(List.of("name", "version", "description", "params", "nodes"));
        YamlNode nameNode = root.required(top, "name");
        String name = nameNode.asString().trim();
        if (!TEMPLATE_NAME.matcher(name).matches()) {
            throw nameNode.error("illegal template name '" + name + "'", "lowercase letters, digits, '-' and '_', starting with a letter");
        }
        int version = YamlNode.optional(top, "version").map(node -> {
            int value = node.asInt();
            if (value < 1) {
                throw node.error("version " + value + " is not positive", "versions count from 1");
            }
            return value;
        }).orElse(1);
        String description = YamlNode.optional(top, "description").map(YamlNode::asString).orElse("").trim();

        List<Param> params = new ArrayList<>();
        for (Map.Entry<String, YamlNode> entry : YamlNode.optional(top, "params").map(YamlNode::asMap).orElse(Map.of()).entrySet()) {
            params.add(param(entry.getKey(), entry.getValue()));
        }
        Set<String> paramNames = new LinkedHashSet<>();
        params.forEach(p -> paramNames.add(p.name()));

        List<YamlNode> nodeList = root.required(top, "nodes").asList();
        if (nodeList.isEmpty()) {
            throw top.get("nodes").error("template " + name + " has no nodes", "list the nodes of its DAG");
        }
        List<NodeSpec> nodes = new ArrayList<>();
        Map<String, NodeSpec> byId = new LinkedHashMap<>();
        for (YamlNode nodeNode : nodeList) {
            NodeSpec node = node(nodeNode, components);
            NodeSpec earlier = byId.put(node.id(), node);
            if (earlier != null) {
                throw nodeNode.error("node id '" + node.id() + "' is used twice (first at " + earlier.node().where() + ")", "give each node its own id");
            }
            nodes.add(node);
        }
        Map<String, Set<String>> upstream = new HashMap<>();
        for (NodeSpec node : nodes) {
            Set<String> needs = new LinkedHashSet<>();
            for (Map.Entry<String, YamlNode> arg : node.with().entrySet()) {
                for (Binding binding : references(arg.getValue())) {
                    if (binding instanceof Binding.ParamValue param && !paramNames.contains(param.param())) {
                        throw arg.getValue().error("unknown parameter '" + param.param() + "'",
                                "parameters of " + name + ": " + String.join(", ", paramNames));
                    }
                    Optional<String> from = binding.fromNode();
                    if (from.isPresent()) {
                        if (!byId.containsKey(from.get())) {
                            throw arg.getValue().error("no node '" + from.get() + "' in template " + name, "nodes: " + String.join(", ", byId.keySet()));
                        }
                        if (from.get().equals(node.id())) {
                            throw arg.getValue().error("node " + node.id() + " refers to its own output", "a node reads only other nodes");
                        }
                        needs.add(from.get());
                    }
                }
            }
            upstream.put(node.id(), needs);
        }
        List<NodeSpec> ordered = topological(nodes, upstream, byId);
        return new Template(name, version, description, params, ordered, source, text);
    }

    private static Param param(String name, YamlNode node) {
        if (!NAME.matcher(name).matches()) {
            throw node.error("illegal parameter name '" + name + "'", "letters, digits and underscores, not starting with a digit");
        }
        Map<String, YamlNode> spec = node.asMapWithKeys(List.of("type", "required", "default", "allowed", "help"));
        YamlNode typeNode = node.required(spec, "type");
        ParamType type;
        try {
            type = ParamType.parse(typeNode.asString());
        } catch (GranaryException e) {
            throw typeNode.error(e.getMessage(), e.hint());
        }
        boolean required = YamlNode.optional(spec, "required").map(YamlNode::asBoolean).orElse(false);
        List<Object> allowed = new ArrayList<>();
        for (YamlNode value : YamlNode.optional(spec, "allowed").map(YamlNode::asList).orElse(List.of())) {
            allowed.add(coerce(type, value));
        }
        Optional<Object> defaultValue = YamlNode.optional(spec, "default").map(value -> coerce(type, value));
        if (defaultValue.isPresent() && !allowed.isEmpty() && !allowed.contains(defaultValue.get())) {
            throw spec.get("default").error("default " + defaultValue.get() + " is not among the allowed values " + allowed,
                    "make the default one of them");
        }
        if (required && defaultValue.isPresent()) {
            throw spec.get("default").error("parameter '" + name + "' is required and has a default", "drop one of the two");
        }
        String help = YamlNode.optional(spec, "help").map(YamlNode::asString).orElse("").trim();
        return new Param(name, type, required, defaultValue, allowed, help, node);
    }

    private static Object coerce(ParamType type, YamlNode value) {
        try {
            return type.coerce(value.asValue());
        } catch (GranaryException e) {
            throw value.error(e.getMessage(), e.hint());
        }
    }

    private static NodeSpec node(YamlNode node, Components components) {
        Map<String, YamlNode> spec = node.asMapWithKeys(List.of("id", "component", "with"));
        YamlNode idNode = node.required(spec, "id");
        String id = idNode.asString().trim();
        if (!NAME.matcher(id).matches()) {
            throw idNode.error("illegal node id '" + id + "'", "letters, digits and underscores, not starting with a digit");
        }
        YamlNode componentNode = node.required(spec, "component");
        String componentName = componentNode.asString().trim();
        Component component = components.find(componentName).orElseThrow(() -> componentNode.error("unknown component '" + componentName + "'",
                "components: " + String.join(", ", components.names()) + " (a team's own come from jars given with --plugins)"));
        Map<String, YamlNode> with = YamlNode.optional(spec, "with").map(YamlNode::asMap).orElse(Map.of());
        Set<String> known = new LinkedHashSet<>();
        component.arguments().forEach(a -> known.add(a.name()));
        for (String arg : with.keySet()) {
            if (!known.contains(arg)) {
                throw new GranaryException("component " + componentName + " takes no argument '" + arg + "' (node " + id + " at "
                        + spec.get("with").keyWhere(arg) + ")", "its arguments: " + String.join(", ", known));
            }
        }
        for (Argument argument : component.arguments()) {
            if (argument.required() && (!with.containsKey(argument.name()) || with.get(argument.name()).isNull())) {
                throw node.error("node " + id + " leaves out argument '" + argument.name() + "' of component " + componentName,
                        "add it under with: (" + argument.help() + ")");
            }
        }
        return new NodeSpec(id, componentName, with, node);
    }

    /** The references anywhere in a value: in its texts, and in the texts of its lists and mappings. */
    static List<Binding> references(YamlNode value) {
        List<Binding> found = new ArrayList<>();
        if (value.isList()) {
            value.asList().forEach(item -> found.addAll(references(item)));
        } else if (value.isMap()) {
            value.asMap().values().forEach(item -> found.addAll(references(item)));
        } else if (value.isScalar()) {
            try {
                found.addAll(Binding.in(value.asString()));
            } catch (GranaryException e) {
                throw value.error(e.getMessage(), e.hint());
            }
        }
        return found;
    }

    /** The nodes in an order where every node comes after those it reads; a cycle is an error naming it. */
    private static List<NodeSpec> topological(List<NodeSpec> nodes, Map<String, Set<String>> upstream, Map<String, NodeSpec> byId) {
        List<NodeSpec> ordered = new ArrayList<>();
        Set<String> done = new LinkedHashSet<>();
        for (NodeSpec node : nodes) {
            visit(node.id(), upstream, byId, done, new ArrayList<>(), ordered);
        }
        return ordered;
    }

    private static void visit(String id, Map<String, Set<String>> upstream, Map<String, NodeSpec> byId, Set<String> done,
                              List<String> path, List<NodeSpec> ordered) {
        if (done.contains(id)) {
            return;
        }
        if (path.contains(id)) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(id), path.size()));
            cycle.add(id);
            throw byId.get(id).node().error("nodes " + String.join(" -> ", cycle) + " form a cycle",
                    "a node may read only nodes that do not read it, directly or through others");
        }
        path.add(id);
        for (String from : upstream.get(id)) {
            visit(from, upstream, byId, done, path, ordered);
        }
        path.remove(path.size() - 1);
        done.add(id);
        ordered.add(byId.get(id));
    }
}
