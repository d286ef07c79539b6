package io.granary.sample.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.granary.common.GranaryException;
import io.granary.common.yaml.YamlNode;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.Datasets;
import io.granary.dataset.ResolvedRef;
import io.granary.feature.registry.RegistryState;
import io.granary.sample.component.CheckContext;
import io.granary.sample.component.Column;
import io.granary.sample.component.Component;
import io.granary.sample.component.Components;
import io.granary.sample.component.NodeArgs;
import io.granary.sample.component.TableArg;
import io.granary.sample.config.PipelineConfig;
import io.granary.sample.template.Binding;
import io.granary.sample.template.NodeSpec;
import io.granary.sample.template.Param;
import io.granary.sample.template.ParamType;
import io.granary.sample.template.Template;
import io.granary.sample.template.TemplateStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * Resolves a pipeline config against its template, the catalog and the feature registry, checks
 * everything before anything runs (each error at the config's or the template's file:line), and
 * decides per node whether to run it: a node whose fingerprint (component, version, arguments and
 * the fingerprints or snapshots of its inputs) already has a committed output is skipped.
 */
public final class Planner {

    /** The namespace of the nodes' intermediate tables. */
    public static final String SCRATCH_NAMESPACE = "granary_samples";
    public static final String PIPELINE = "granary.sample.pipeline";
    public static final String NODE = "granary.sample.node";
    public static final String FINGERPRINT = "granary.sample.fingerprint";
    public static final String VALUES = "granary.sample.values";

    private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private final Datasets datasets;
    private final RegistryState registry;
    private final TemplateStore templates;
    private final Components components;

    public Planner(Datasets datasets, RegistryState registry, TemplateStore templates, Components components) {
        this.datasets = datasets;
        this.registry = registry;
        this.templates = templates;
        this.components = components;
    }

    /** What the last run of the pipeline made a node's fingerprint of, for saying what changed. */
    public record Previous(String fingerprint, Map<String, Object> canonicalArgs, String componentVersion) {}

    /**
     * Plans {@code config}: {@code force} names nodes to rerun with all below them; {@code previous}
     * is the last run's fingerprints by node id (empty for a first run).
     */
    public Plan plan(PipelineConfig config, Set<String> force, Map<String, Previous> previous) {
        Template template;
        try {
            template = templates.get(config.template());
        } catch (GranaryException e) {
            throw new GranaryException(e.kind(), e.getMessage() + " (template at " + config.templateWhere() + ")", e.hint(), e);
        }
        for (String node : force) {
            if (template.node(node).isEmpty()) {
                throw GranaryException.notFound("--force names no node of template " + template.name() + ": '" + node + "'",
                        "its nodes: " + String.join(", ", template.nodes().stream().map(NodeSpec::id).toList()));
            }
        }
        Map<String, String> origins = new LinkedHashMap<>();
        Map<String, Object> params = params(config, template, origins);

        Map<String, PlannedNode> planned = new LinkedHashMap<>();
        Set<String> forced = new HashSet<>(force);
        for (NodeSpec spec : template.nodes()) {
            Component component = components.find(spec.component()).orElseThrow();
            Bound bound = bind(template, spec, params, origins, id -> outputOf(planned.get(id)), planned);
            NodeArgs args = new NodeArgs(spec.id(), bound.values, bound.origins);
            List<Column> columns = component.check(args, new CheckContext(datasets, registry));
            boolean passThrough = component.passesThrough(args);
            Map<String, Object> canonical = new TreeMap<>(bound.canonical);
            String fingerprint = fingerprint(component, canonical);
            List<String> upstream = List.copyOf(bound.upstream);
            if (upstream.stream().anyMatch(forced::contains)) {
                forced.add(spec.id());
            }
            Optional<NodeOutput> existing;
            Action action;
            String reason;
            if (passThrough) {
                TableArg input = (TableArg) bound.values.get(component.mainInput());
                existing = Optional.of(new NodeOutput(Optional.ofNullable(input), List.of(), 0, Map.of(), ""));
                action = Action.SKIP;
                reason = "nothing to do with these arguments: passes " + component.mainInput() + " through";
            } else {
                existing = forced.contains(spec.id()) ? Optional.empty() : committed(config, spec, component, args, fingerprint);
                action = existing.isPresent() ? Action.SKIP : Action.RUN;
                reason = existing.isPresent() ? "unchanged: output committed by run " + shortRun(existing.get().runId())
                        : forced.contains(spec.id()) ? (force.contains(spec.id()) ? "--force" : "below a forced node")
                        : whyRun(spec.id(), component, canonical, fingerprint, previous.get(spec.id()), planned);
            }
            planned.put(spec.id(), new PlannedNode(spec, component, fingerprint, canonical, upstream, columns, passThrough, action, reason,
                    existing, component.rowLocal(args)));
        }
        return new Plan(config, template, params, origins, notNeededSkipped(new ArrayList<>(planned.values())));
    }

    /**
     * A node that would run only to feed nodes that are all skipped is not needed: skipped too. A
     * node that passes its input through needs it exactly when one of its readers runs.
     */
    private static List<PlannedNode> notNeededSkipped(List<PlannedNode> nodes) {
        Set<String> needed = new HashSet<>();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            PlannedNode node = nodes.get(i);
            List<PlannedNode> readers = nodes.stream().filter(n -> n.upstream().contains(node.id())).toList();
            boolean readersNeedIt = readers.stream().anyMatch(reader -> needed.contains(reader.id()));
            if (node.passThrough()) {
                if (readersNeedIt) {
                    needed.add(node.id());
                }
            } else if (node.action() == Action.RUN) {
                if (readers.isEmpty() || readersNeedIt) {
                    needed.add(node.id());
                } else {
                    nodes.set(i, new PlannedNode(node.spec(), node.component(), node.fingerprint(), node.canonicalArgs(), node.upstream(),
                            node.outputColumns(), node.passThrough(), Action.SKIP, "not needed: every node reading it is up to date",
                            Optional.empty(), node.rowLocal()));
                }
            }
        }
        return nodes;
    }

    private static String shortRun(String runId) {
        return runId.length() > 8 ? runId.substring(0, 8) : runId;
    }

    /** Why a node runs: what differs from the pipeline's last run of it. */
    private static String whyRun(String id, Component component, Map<String, Object> canonical, String fingerprint, Previous previous,
                                 Map<String, PlannedNode> planned) {
        if (previous == null) {
            return "new: no output with this fingerprint yet";
        }
        if (previous.fingerprint().equals(fingerprint)) {
            return "its output is gone (the last run did not finish it, or it was removed)";
        }
        if (!previous.componentVersion().equals(component.version())) {
            return "component " + component.name() + " changed: version " + previous.componentVersion() + " -> " + component.version();
        }
        List<String> changed = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>(canonical.keySet());
        keys.addAll(previous.canonicalArgs().keySet());
        for (String key : keys) {
            Object now = canonical.get(key);
            Object before = previous.canonicalArgs().get(key);
            if (java.util.Objects.equals(String.valueOf(now), String.valueOf(before))) {
                continue;
            }
            String text = String.valueOf(now);
            if (text.startsWith("node:") || text.startsWith("value:")) {
                changed.add(key + " (upstream node " + text.split(":")[1] + " changed)");
            } else if (text.startsWith("dataset:")) {
                changed.add(key + ": " + String.valueOf(before).replace("dataset:", "") + " -> " + text.replace("dataset:", ""));
            } else {
                changed.add(key + ": " + (before == null ? "(none)" : before) + " -> " + (now == null ? "(none)" : now));
            }
        }
        return changed.isEmpty() ? "its inputs changed" : "changed: " + String.join("; ", changed);
    }

    /** The parameters' values: the config's, type-checked, or the template's defaults; datasets resolved to snapshots. */
    private Map<String, Object> params(PipelineConfig config, Template template, Map<String, String> origins) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Map.Entry<String, YamlNode> given : config.params().entrySet()) {
            if (template.param(given.getKey()).isEmpty()) {
                throw new GranaryException("unknown parameter '" + given.getKey() + "' for template " + template.id() + " (at "
                        + config.paramsNode().keyWhere(given.getKey()) + ")",
                        "its parameters: " + String.join(", ", template.params().stream().map(Param::name).toList())
                                + " (`granary sample template show " + template.name() + "`)");
            }
        }
        for (Param param : template.params()) {
            YamlNode node = config.params().get(param.name());
            Object value;
            if (node == null || node.isNull()) {
                if (param.required()) {
                    throw new GranaryException("parameter '" + param.name() + "' of template " + template.id() + " is required (in "
                            + config.file() + ", params at " + config.paramsNode().where() + ")",
                            "add " + param.name() + ": ... (" + (param.help().isEmpty() ? param.type().expected() : param.help()) + ")");
                }
                value = param.defaultValue().orElse(null);
                origins.put(param.name(), "the default of parameter " + param.name() + " at " + param.node().where());
            } else {
                origins.put(param.name(), config.file() + ":" + node.where().substring(node.where().lastIndexOf(':') + 1)
                        + " (params." + param.name() + ")");
                try {
                    value = param.type().coerce(node.asValue());
                } catch (GranaryException e) {
                    throw node.error("parameter " + param.name() + ": " + e.getMessage(), e.hint());
                }
                if (!param.allowed().isEmpty() && !param.allowed().contains(value)) {
                    throw node.error("parameter " + param.name() + " is " + value + ", not one of " + param.allowed(), "choose one of them");
                }
            }
            if (value != null && param.type() == ParamType.DATASET) {
                value = table(value.toString(), param.name(), origins.get(param.name()));
            } else if (value != null && param.type() == ParamType.FEATURES) {
                List<String> features = ((List<?>) value).stream().map(Object::toString).toList();
                try {
                    registry.resolve(features);
                } catch (GranaryException e) {
                    throw new GranaryException(e.kind(), "parameter " + param.name() + ": " + e.getMessage() + " (" + origins.get(param.name()) + ")",
                            e.hint(), e);
                }
                value = features;
            }
            values.put(param.name(), value);
        }
        return values;
    }

    /** A dataset parameter as the table it reads: resolved to its snapshot now, so every node reads the same rows. */
    private TableArg table(String text, String param, String origin) {
        try {
            ResolvedRef resolved = datasets.resolve(DatasetRef.parse(text));
            if (resolved.snapshot().isEmpty()) {
                throw new GranaryException(resolved.ref().dataset() + " has no rows", "append rows to it first");
            }
            return new TableArg(resolved.ref().dataset().toString(), Optional.of(resolved.snapshot().get().snapshotId()), columns(resolved));
        } catch (GranaryException e) {
            throw new GranaryException(e.kind(), "parameter " + param + ": " + e.getMessage() + " (" + origin + ")", e.hint(), e);
        }
    }

    private static List<Column> columns(ResolvedRef resolved) {
        return resolved.schema().columns().stream().map(f -> new Column(f.name(), f.type().toString())).toList();
    }

    /** A node's arguments resolved, what its fingerprint is made of, the nodes it reads, and where each argument was set. */
    private static final class Bound {
        final Map<String, Object> values = new LinkedHashMap<>();
        final Map<String, Object> canonical = new LinkedHashMap<>();
        final Map<String, String> origins = new LinkedHashMap<>();
        final Set<String> upstream = new LinkedHashSet<>();
    }

    /**
     * A node's arguments as it runs: its inputs' committed outputs (tables at their snapshots, and
     * values) in place of the references to them.
     */
    public NodeArgs runArgs(Plan plan, PlannedNode node, Map<String, NodeOutput> outputs) {
        Map<String, PlannedNode> planned = new LinkedHashMap<>();
        plan.nodes().forEach(n -> planned.put(n.id(), n));
        Bound bound = bind(plan.template(), node.spec(), plan.params(), plan.paramOrigins(), id -> {
            NodeOutput output = outputs.get(id);
            if (output == null) {
                throw new IllegalStateException("node " + id + " has no output yet");
            }
            return output;
        }, planned);
        return new NodeArgs(node.id(), bound.values, bound.origins);
    }

    /** A planned node's output as its readers see it before running: committed, or only its columns. */
    private static NodeOutput outputOf(PlannedNode node) {
        return node.existing().orElse(new NodeOutput(Optional.empty(), List.of(), 0, Map.of(), ""));
    }

    private Bound bind(Template template, NodeSpec spec, Map<String, Object> params, Map<String, String> paramOrigins,
                       java.util.function.Function<String, NodeOutput> outputs, Map<String, PlannedNode> planned) {
        Bound bound = new Bound();
        for (Map.Entry<String, YamlNode> arg : spec.with().entrySet()) {
            YamlNode node = arg.getValue();
            bound.origins.put(arg.getKey(), "template " + template.id() + " at " + node.where() + ", node " + spec.id());
            if (node.isScalar()) {
                Optional<Binding> whole = Binding.whole(node.asString());
                if (whole.isPresent() && whole.get() instanceof Binding.ParamValue param) {
                    bound.origins.put(arg.getKey(), paramOrigins.get(param.param()));
                }
            }
            bound.values.put(arg.getKey(), resolve(node, params, planned, outputs, bound, false));
            bound.canonical.put(arg.getKey(), resolve(node, params, planned, outputs, bound, true));
        }
        return bound;
    }

    /** A value with its references replaced: by what they name, or (for fingerprints) by what identifies it. */
    private Object resolve(YamlNode node, Map<String, Object> params, Map<String, PlannedNode> planned,
                           java.util.function.Function<String, NodeOutput> outputs, Bound bound, boolean canonical) {
        if (node.isList()) {
            List<Object> values = new ArrayList<>();
            node.asList().forEach(item -> values.add(resolve(item, params, planned, outputs, bound, canonical)));
            return values;
        }
        if (node.isMap()) {
            Map<String, Object> values = new LinkedHashMap<>();
            node.asMap().forEach((key, item) -> values.put(key, resolve(item, params, planned, outputs, bound, canonical)));
            return values;
        }
        if (!node.isScalar()) {
            return null;
        }
        Object literal = node.asValue();
        if (!(literal instanceof String text) || !text.contains("${")) {
            return literal;
        }
        Optional<Binding> whole = Binding.whole(text);
        if (whole.isPresent()) {
            return value(whole.get(), params, planned, outputs, bound, canonical);
        }
        Matcher matcher = Binding.REFERENCE.matcher(text);
        StringBuilder interpolated = new StringBuilder();
        while (matcher.find()) {
            Object value = value(Binding.whole(matcher.group()).orElseThrow(), params, planned, outputs, bound, canonical);
            if (value instanceof TableArg table) {
                value = canonical ? value : table.dataset();
            }
            matcher.appendReplacement(interpolated, Matcher.quoteReplacement(String.valueOf(value)));
        }
        matcher.appendTail(interpolated);
        return interpolated.toString();
    }

    private Object value(Binding binding, Map<String, Object> params, Map<String, PlannedNode> planned,
                         java.util.function.Function<String, NodeOutput> outputs, Bound bound, boolean canonical) {
        if (binding instanceof Binding.ParamValue param) {
            Object value = params.get(param.param());
            if (canonical && value instanceof TableArg table) {
                return "dataset:" + table.pinned();
            }
            return value;
        }
        PlannedNode from = planned.get(binding.fromNode().orElseThrow());
        bound.upstream.add(from.id());
        if (binding instanceof Binding.NodeOutput) {
            if (canonical) {
                return "node:" + from.id() + ":" + from.fingerprint();
            }
            return outputs.apply(from.id()).table()
                    .orElse(new TableArg("(the output of node " + from.id() + ")", Optional.empty(), from.outputColumns()));
        }
        String name = ((Binding.NodeValue) binding).value();
        if (canonical) {
            return "value:" + from.id() + ":" + from.fingerprint() + ":" + name;
        }
        return outputs.apply(from.id()).values().get(name);
    }

    /** The scratch table of a node's output with this fingerprint. */
    public static DatasetName scratchTable(String pipeline, String node, String fingerprint) {
        return new DatasetName(SCRATCH_NAMESPACE, pipeline + "__" + node.toLowerCase(java.util.Locale.ROOT) + "__" + fingerprint.substring(0, 16));
    }

    /** A node's committed output with this fingerprint, if there is one. */
    private Optional<NodeOutput> committed(PipelineConfig config, NodeSpec spec, Component component, NodeArgs args, String fingerprint) {
        List<String> published = component.publishes(args);
        if (!published.isEmpty()) {
            List<String> pinned = new ArrayList<>();
            Map<String, Object> values = Map.of();
            String runId = "";
            long rows = 0;
            for (String dataset : published) {
                DatasetName name = DatasetName.parse(dataset);
                if (!datasets.exists(name)) {
                    return Optional.empty();
                }
                Snapshot current = datasets.load(name).currentSnapshot();
                if (current == null || !fingerprint.equals(current.summary().get(FINGERPRINT))) {
                    return Optional.empty();
                }
                pinned.add(name + "@" + current.snapshotId());
                values = values(current);
                runId = current.summary().getOrDefault(io.granary.dataset.Provenance.RUN_ID, "");
                rows += Long.parseLong(current.summary().getOrDefault("total-records", "0"));
            }
            return Optional.of(new NodeOutput(Optional.empty(), pinned, rows, values, runId));
        }
        DatasetName scratch = scratchTable(config.name(), spec.id(), fingerprint);
        if (!datasets.exists(scratch)) {
            return Optional.empty();
        }
        Table table = datasets.load(scratch);
        Snapshot snapshot = table.currentSnapshot();
        if (snapshot == null || !fingerprint.equals(snapshot.summary().get(FINGERPRINT))) {
            return Optional.empty();
        }
        List<Column> columns = table.schema().columns().stream().map(f -> new Column(f.name(), f.type().toString())).toList();
        return Optional.of(new NodeOutput(Optional.of(new TableArg(scratch.toString(), Optional.of(snapshot.snapshotId()), columns)), List.of(),
                Long.parseLong(snapshot.summary().getOrDefault("total-records", "0")), values(snapshot),
                snapshot.summary().getOrDefault(io.granary.dataset.Provenance.RUN_ID, "")));
    }

    /** The values a node recorded in its commit's summary. */
    public static Map<String, Object> values(Snapshot snapshot) {
        String json = snapshot.summary().get(VALUES);
        if (json == null) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }

    /** The values as recorded in a commit's summary. */
    public static String valuesJson(Map<String, Object> values) {
        try {
            return JSON.writeValueAsString(values);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String fingerprint(Component component, Map<String, Object> canonical) {
        Map<String, Object> identity = new TreeMap<>();
        identity.put("component", component.name());
        identity.put("version", component.version());
        identity.put("args", canonical);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(JSON.writeValueAsString(identity).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
