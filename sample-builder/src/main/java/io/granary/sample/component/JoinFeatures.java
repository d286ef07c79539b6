package io.granary.sample.component;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.DatasetRef;
import io.granary.dataset.WriteResult;
import io.granary.feature.offline.LocalPointInTimeJoin;
import io.granary.feature.offline.PointInTimeJoin;
import io.granary.feature.registry.FeatureRef;
import io.granary.feature.registry.FeatureView;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * {@code join_features}: point-in-time correct features for each input row, through the feature
 * store's retrieval (`granary feature history`'s engines, with their one answer on ties): in this
 * process when the rows are few enough, on Spark otherwise.
 */
public final class JoinFeatures implements Component {

    @Override
    public String name() {
        return "join_features";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "point-in-time join of registered features, in process or on Spark";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("input", "the entity rows: join keys and a time"),
                Argument.optional("features", "features as VIEW:FEATURE or whole VIEWs"),
                Argument.optional("service", "a feature service, instead of features"),
                Argument.required("timestamp_column", "the input's time column: features as known then"),
                Argument.optional("full_names", "name feature columns VIEW__FEATURE (default false)"));
    }

    @Override
    public Optional<String> notInProcess(NodeArgs args) {
        return Optional.empty();
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return true;
    }

    private static List<FeatureRef> refs(NodeArgs args, CheckContext context) {
        boolean byService = args.has("service");
        if (byService == !args.strings("features").isEmpty()) {
            throw args.error(byService ? "service" : "features", "give features or a service (one of the two)",
                    "e.g. features: [user_daily:clicks, item_daily]");
        }
        try {
            return byService ? context.registry().resolveService(args.string("service")) : context.registry().resolveWithViews(args.strings("features"));
        } catch (GranaryException e) {
            throw args.error(byService ? "service" : "features", e.getMessage(), e.hint());
        }
    }

    /** Each view's source at its current snapshot, and the view's definition: new feature rows or a changed view rerun the node. */
    @Override
    public Map<String, String> reads(NodeArgs args, CheckContext context) {
        Map<String, String> reads = new java.util.TreeMap<>();
        for (String name : refs(args, context).stream().map(FeatureRef::view).distinct().toList()) {
            FeatureView view = context.registry().featureView(name);
            org.apache.iceberg.Snapshot current = context.datasets().load(view.source().dataset()).currentSnapshot();
            reads.put("view:" + name, view.source().dataset() + (current == null ? "" : "@" + current.snapshotId()));
            reads.put("definition:" + name, Integer.toHexString(view.toString().hashCode()));
        }
        return reads;
    }

    /** The snapshot each view is read at, by view name, from the pins made when the node was planned. */
    private static Map<String, Long> pins(NodeArgs args) {
        Map<String, Long> pins = new java.util.HashMap<>();
        args.reads().forEach((key, value) -> {
            if (key.startsWith("view:") && value.contains("@")) {
                pins.put(key.substring(5), Long.parseLong(value.substring(value.lastIndexOf('@') + 1)));
            }
        });
        return pins;
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg input = args.table("input");
        List<FeatureRef> refs = refs(args, context);
        String time = args.string("timestamp_column");
        Column timeColumn = args.requireColumn("timestamp_column", input, time);
        if (!timeColumn.isTime()) {
            throw args.error("timestamp_column", time + " is " + timeColumn.type() + ", not a time", "name a timestamp or date column");
        }
        boolean fullNames = args.bool("full_names", false);
        List<Column> output = new ArrayList<>(input.columns());
        Set<String> taken = new LinkedHashSet<>(input.columnNames());
        for (FeatureRef ref : refs) {
            FeatureView view = context.registry().featureView(ref.view());
            for (String key : context.registry().joinKeys(view)) {
                if (input.column(key).isEmpty()) {
                    throw args.error("input", "the rows have no column '" + key + "', which feature view " + view.name() + " is keyed by",
                            "keep " + key + " in the rows (extract's columns) or leave " + view.name() + "'s features out");
                }
            }
            Schema source = context.datasets().load(view.source().dataset()).schema();
            Types.NestedField field = source.findField(ref.feature());
            String name = ref.outputName(fullNames);
            if (!taken.add(name)) {
                throw args.error(args.has("service") ? "service" : "features", "the rows already have a column '" + name + "'",
                        "set full_names: true to name feature columns VIEW__FEATURE");
            }
            output.add(new Column(name, field == null ? Column.UNKNOWN : field.type().toString()));
        }
        return output;
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        CheckContext check = new CheckContext(context.datasets(), context.registry());
        List<FeatureRef> refs = refs(args, check);
        String time = args.string("timestamp_column");
        boolean fullNames = args.bool("full_names", false);
        LocalPointInTimeJoin local = new LocalPointInTimeJoin(context.datasets(), context.registry());
        if (context.engine() == Engine.local && !input.isWhole()) {
            throw new GranaryException("node " + args.node() + " cannot run in process: its input is " + input.pinned()
                    + ", several parts or appended rows, which the in-process engine does not read", "use --engine spark or auto");
        }
        if (context.engine() != Engine.spark && input.isWhole()) {
            DatasetRef entities = DatasetRef.at(DatasetName.parse(input.dataset()), input.snapshotId().orElseThrow());
            Optional<String> unsupported = local.unsupported(entities, refs);
            long rows = rows(context, entities, refs);
            if (context.engine() == Engine.local && unsupported.isPresent()) {
                throw new GranaryException("node " + args.node() + " cannot run in process: " + unsupported.get(), "use --engine spark or auto");
            }
            if (unsupported.isEmpty() && (context.engine() == Engine.local || rows <= context.localMaxRows())) {
                WriteResult written = local.history(entities, Optional.of(time), refs, fullNames, pins(args), context.outputTable(),
                        context.provenance());
                return new NodeResult.Written(context.outputTable(), written.snapshotId(), written.rowsWritten(), Map.of());
            }
        }
        return new NodeResult.Frame(new PointInTimeJoin(context.spark(), context.registry()).join(context.read(input), time, refs, fullNames,
                pins(args)), Map.of());
    }

    /** The entity rows and every view's rows together: what decides between the engines. */
    private static long rows(RunContext context, DatasetRef entities, List<FeatureRef> refs) {
        long rows = total(context.datasets().resolve(entities).snapshot());
        for (String view : refs.stream().map(FeatureRef::view).distinct().toList()) {
            FeatureView featureView = context.registry().featureView(view);
            rows += total(Optional.ofNullable(context.datasets().load(featureView.source().dataset()).currentSnapshot()));
        }
        return rows;
    }

    private static long total(Optional<org.apache.iceberg.Snapshot> snapshot) {
        return snapshot.map(s -> Long.parseLong(s.summary().getOrDefault("total-records", "0"))).orElse(0L);
    }
}
