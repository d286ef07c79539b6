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
            CheckContext checks = new CheckContext(datasets, registry);
            List<Column> columns = component.check(args, checks);
            boolean passThrough = component.passesThrough(args);
            Map<String, Object> canonical = new TreeMap<>(bound.canonical);
            Map<String, String> reads = new TreeMap<>(component.reads(args, checks));
            if (!reads.isEmpty()) {
                canonical.put("(reads)", reads);
            }
            String fingerprint = fingerprint(component, canonical);
            List<String> upstream = List.copyOf(bound.upstream);
            if (upstream.stream().anyMatch(forced::contains)) {
                forced.add(spec.id());
            }
            Optional<NodeOutput> existing;
            Optional<PlannedNode.Increment> increment = Optional.empty();
            Action action;
            String reason;
            if (passThrough) {
                TableArg input = (TableArg) bound.values.get(component.mainInput());
                existing = Optional.of(new NodeOutput(Optional.ofNullable(input), List.of(), 0, Map.of(), ""));
                Optional<PlannedNode> source = mainSource(canonical, component, planned);
                boolean passesAppended = source.isPresent() && source.get().action() == Action.INCREMENTAL;
                action = passesAppended ? Action.INCREMENTAL : Action.SKIP;
                reason = "nothing to do with these arguments: passes " + component.mainInput() + " through"
                        + (passesAppended ? ", with the rows node " + source.get().id() + " added" : "");
            } else {
                existing = forced.contains(spec.id()) ? Optional.empty() : committed(config, spec, component, args, fingerprint);
                if (existing.isPresent()) {
                    action = Action.SKIP;
                    reason = "unchanged: output committed by run " + shortRun(existing.get().runId());
                } else if (forced.contains(spec.id())) {
                    action = Action.RUN;
                    reason = force.contains(spec.id()) ? "--force" : "below a forced node";
                } else {
                    IncrementCheck check = incremental(config, spec, component, args, canonical, previous, planned);
                    increment = check.increment();
                    action = increment.isPresent() ? Action.INCREMENTAL : Action.RUN;
                    reason = increment.isPresent() ? check.why()
                            : whyRun(spec.id(), component, canonical, fingerprint, previous.get(spec.id()), planned)
                                    + (check.why().isEmpty() ? "" : "; " + check.why());
                }
            }
            planned.put(spec.id(), new PlannedNode(spec, component, fingerprint, canonical, reads, upstream, columns, passThrough, action,
                    reason, existing, component.rowLocal(args), increment));
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
            } else if (node.action() == Action.RUN || node.action() == Action.INCREMENTAL) {
                if (readers.isEmpty() || readersNeedIt) {
                    needed.add(node.id());
                } else {
                    nodes.set(i, new PlannedNode(node.spec(), node.component(), node.fingerprint(), node.canonicalArgs(), node.reads(), node.upstream(),
                            node.outputColumns(), node.passThrough(), Action.SKIP, "not needed: every node reading it is up to date",
                            Optional.empty(), node.rowLocal(), Optional.empty()));
                }
            }
        }
        return nodes;
    }

    /** Most parts an incremental output grows to: past it, the node is recomputed whole into one table. */
    static final int MAX_PARTS = 16;

    /** Whether a node can take only the rows its input gained by appends; if its input did gain some and it cannot, why. */
    private record IncrementCheck(Optional<PlannedNode.Increment> increment, String why) {
        static IncrementCheck none(String why) {
            return new IncrementCheck(Optional.empty(), why);
        }
    }

    /** The planned node a node's main input comes from, if it is an upstream node's output. */
    private static Optional<PlannedNode> mainSource(Map<String, Object> canonical, Component component, Map<String, PlannedNode> planned) {
        String text = String.valueOf(canonical.get(component.mainInput()));
        return text.startsWith("node:") ? Optional.ofNullable(planned.get(text.split(":")[1])) : Optional.empty();
    }

    private IncrementCheck incremental(PipelineConfig config, NodeSpec spec, Component component, NodeArgs args, Map<String, Object> canonical,
                                       Map<String, Previous> previousRuns, Map<String, PlannedNode> planned) {
        Previous previous = previousRuns.get(spec.id());
        String main = component.mainInput();
        if (previous == null || canonical.get(main) == null || previous.canonicalArgs().get(main) == null) {
            return IncrementCheck.none("");
        }
        String now = String.valueOf(canonical.get(main));
        String before = String.valueOf(previous.canonicalArgs().get(main));
        if (now.equals(before)) {
            return IncrementCheck.none("");
        }
        Optional<TableArg> appendedRows = Optional.empty();
        Optional<String> fromNode = Optional.empty();
        String source;
        if (now.startsWith("dataset:") && before.startsWith("dataset:")) {
            String dataset = now.substring(8, now.lastIndexOf('@'));
            if (!dataset.equals(before.substring(8, before.lastIndexOf('@')))) {
                return IncrementCheck.none("");
            }
            long since = Long.parseLong(before.substring(before.lastIndexOf('@') + 1));
            long until = Long.parseLong(now.substring(now.lastIndexOf('@') + 1));
            Optional<String> notAppends = notAppendsOnly(dataset, since, until);
            if (notAppends.isPresent()) {
                return IncrementCheck.none("recomputed whole: " + notAppends.get());
            }
            TableArg whole = (TableArg) args.values().get(main);
            appendedRows = Optional.of(whole.withParts(List.of(new TableArg.Part(dataset, Optional.of(until), Optional.of(since)))));
            source = "the rows appended to " + dataset + " after @" + since + " (to @" + until + ")";
        } else if (now.startsWith("node:") && before.startsWith("node:")) {
            String upstream = now.split(":")[1];
            PlannedNode from = planned.get(upstream);
            Previous upstreamBefore = previousRuns.get(upstream);
            boolean addsParts = from != null && from.increment().map(increment -> !increment.merge()).orElse(from.passThrough());
            if (from == null || from.action() != Action.INCREMENTAL || !addsParts || !before.split(":")[1].equals(upstream)
                    || upstreamBefore == null || !upstreamBefore.fingerprint().equals(before.split(":")[2])) {
                return IncrementCheck.none("");
            }
            fromNode = Optional.of(upstream);
            source = "the rows node " + upstream + " added";
        } else {
            return IncrementCheck.none("");
        }
        boolean merge = !component.rowLocal(args) && component.mergeable(args);
        if (!component.rowLocal(args) && !merge) {
            return IncrementCheck.none("recomputed whole: " + component.name() + " is not row-local with these arguments");
        }
        if (!component.version().equals(previous.componentVersion())) {
            return IncrementCheck.none("recomputed whole: component " + component.name() + " changed");
        }
        Set<String> keys = new LinkedHashSet<>(canonical.keySet());
        keys.addAll(previous.canonicalArgs().keySet());
        for (String key : keys) {
            if (!key.equals(main) && !String.valueOf(canonical.get(key)).equals(String.valueOf(previous.canonicalArgs().get(key)))) {
                return IncrementCheck.none("recomputed whole: " + key + " changed too");
            }
        }
        Optional<NodeOutput> last = committed(config, spec, component, args, previous.fingerprint());
        if (last.isEmpty()) {
            return IncrementCheck.none("recomputed whole: its last output is gone"
                    + (component.publishes(args).isEmpty() ? "" : ", or its datasets were written since"));
        }
        if (!merge && last.get().table().map(table -> table.parts().size()).orElse(0) >= MAX_PARTS) {
            return IncrementCheck.none("recomputed whole into one table: its output has " + MAX_PARTS + " appended parts");
        }
        return new IncrementCheck(Optional.of(new PlannedNode.Increment(last.get(), appendedRows, fromNode, merge)),
                "only " + source + ", " + (merge ? "merged into" : "added to") + " its output of run " + shortRun(last.get().runId()));
    }

    /** Why the snapshots of a dataset after {@code since} up to {@code until} are more than appends, if they are. */
    private Optional<String> notAppendsOnly(String dataset, long since, long until) {
        Table table = datasets.load(DatasetName.parse(dataset));
        if (table.snapshot(since) == null) {
            return Optional.of(dataset + "@" + since + " (what it was last computed from) is gone");
        }
        if (!org.apache.iceberg.util.SnapshotUtil.isAncestorOf(table, until, since)) {
            return Optional.of(dataset + "@" + until + " does not descend from @" + since + " (a rollback or another branch)");
        }
        for (Snapshot snapshot : org.apache.iceberg.util.SnapshotUtil.ancestorsBetween(table, until, since)) {
            if (!"append".equals(snapshot.operation())) {
                return Optional.of(dataset + " changed by more than appends (snapshot " + snapshot.snapshotId() + " is " + snapshot.operation() + ")");
            }
        }
        return Optional.empty();
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
            if (key.equals("(reads)")) {
                changed.add("what it reads changed: " + changedReads(before, now));
            } else if (text.startsWith("node:") || text.startsWith("value:")) {
                changed.add(key + " (upstream node " + text.split(":")[1] + " changed)");
            } else if (text.startsWith("dataset:")) {
                changed.add(key + ": " + String.valueOf(before).replace("dataset:", "") + " -> " + text.replace("dataset:", ""));
            } else {
                changed.add(key + ": " + (before == null ? "(none)" : before) + " -> " + (now == null ? "(none)" : now));
            }
        }
        return changed.isEmpty() ? "its inputs changed" : "changed: " + String.join("; ", changed);
    }

    /** The entries of two read maps that differ, as "key: before -> now". */
    private static String changedReads(Object before, Object now) {
        Map<?, ?> was = before instanceof Map<?, ?> map ? map : Map.of();
        Map<?, ?> is = now instanceof Map<?, ?> map ? map : Map.of();
        Set<Object> keys = new LinkedHashSet<>(was.keySet());
        keys.addAll(is.keySet());
        List<String> changes = new ArrayList<>();
        for (Object key : keys) {
            if (!java.util.Objects.equals(was.get(key), is.get(key))) {
                changes.add(key + " " + (was.get(key) == null ? "(none)" : was.get(key)) + " -> " + (is.get(key) == null ? "(none)" : is.get(key)));
            }
        }
        return String.join(", ", changes);
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
                    registry.resolveWithViews(features);
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
        if (node.action() == Action.INCREMENTAL && node.increment().isPresent()) {
            PlannedNode.Increment increment = node.increment().get();
            TableArg appended = increment.appendedRows().orElseGet(() -> outputs.get(increment.fromNode().orElseThrow()).delta()
                    .orElseThrow(() -> new IllegalStateException("node " + increment.fromNode().get() + " added no rows part")));
            bound.values.put(node.component().mainInput(), appended);
        }
        return new NodeArgs(node.id(), bound.values, bound.origins, node.reads());
    }

    /** A node's arguments as planned (upstream tables that are not committed yet by their columns only), to ask its component about them. */
    public Optional<NodeArgs> planArgs(Plan plan, PlannedNode node) {
        Map<String, PlannedNode> planned = new LinkedHashMap<>();
        plan.nodes().forEach(n -> planned.put(n.id(), n));
        Bound bound = bind(plan.template(), node.spec(), plan.params(), plan.paramOrigins(), id -> outputOf(planned.get(id)), planned);
        return Optional.of(new NodeArgs(node.id(), bound.values, bound.origins, node.reads()));
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
                Optional<Table> found = datasets.find(name);
                if (found.isEmpty()) {
                    return Optional.empty();
                }
                Snapshot current = found.get().currentSnapshot();
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
        Optional<Table> found = datasets.find(scratch);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Table table = found.get();
        Snapshot snapshot = table.currentSnapshot();
        if (snapshot == null || !fingerprint.equals(snapshot.summary().get(FINGERPRINT))) {
            return Optional.empty();
        }
        List<Column> columns = table.schema().columns().stream().map(f -> new Column(f.name(), f.type().toString())).toList();
        List<TableArg.Part> parts = new ArrayList<>(earlierParts(snapshot));
        parts.add(new TableArg.Part(scratch.toString(), Optional.of(snapshot.snapshotId()), Optional.empty()));
        return Optional.of(new NodeOutput(Optional.of(new TableArg(parts, columns)), List.of(),
                Long.parseLong(snapshot.summary().getOrDefault("total-records", "0")), values(snapshot),
                snapshot.summary().getOrDefault(io.granary.dataset.Provenance.RUN_ID, "")));
    }

    /** The summary property that lists the earlier parts of an incrementally grown output ("ns.name@snapshot" each). */
    public static final String EARLIER_PARTS = "granary.sample.earlier-parts";

    /** The earlier parts a node's commit recorded (none for a whole output). */
    static List<TableArg.Part> earlierParts(Snapshot snapshot) {
        String json = snapshot.summary().get(EARLIER_PARTS);
        if (json == null) {
            return List.of();
        }
        try {
            List<String> pinned = JSON.readValue(json, new TypeReference<List<String>>() {});
            return pinned.stream().map(p -> new TableArg.Part(p.substring(0, p.lastIndexOf('@')),
                    Optional.of(Long.parseLong(p.substring(p.lastIndexOf('@') + 1))), Optional.empty())).toList();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable " + EARLIER_PARTS + " in snapshot " + snapshot.snapshotId(), e);
        }
    }

    /** Parts as a commit records them. */
    public static String partsJson(List<TableArg.Part> parts) {
        try {
            return JSON.writeValueAsString(parts.stream().map(TableArg.Part::pinned).toList());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
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
