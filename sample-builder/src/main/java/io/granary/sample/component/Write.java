package io.granary.sample.component;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetName;
import io.granary.dataset.WriteResult;
import io.granary.dataset.spark.SparkQueries;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * {@code write}: the pipeline's result as datasets of the user's: one per split (OUTPUT_train,
 * OUTPUT_validation, ...) or one in all. Each is replaced in one atomic commit that keeps its
 * history (or, in an incremental run, gets the new rows appended), with lineage to the run and,
 * through the node tables, to every input snapshot.
 */
public final class Write implements Component {

    @Override
    public String name() {
        return "write";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "one dataset per split (or one in all), with lineage to the run and its inputs";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("input", "the rows to write"),
                Argument.required("output", "the dataset name: NS.NAME (per split: NS.NAME_SPLIT)"),
                Argument.optional("splits", "the split names (a list, or the split ratios' mapping); none: one dataset"),
                Argument.optional("split_column", "the column naming each row's split (default: split)"),
                Argument.optional("keep_split_column", "keep the split column in the datasets (default false)"));
    }

    @Override
    public Optional<String> notInProcess(NodeArgs args) {
        return Optional.empty();
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return true;
    }

    /** The split names: a list as given, or the numeric entries' keys of a ratios mapping. */
    private static List<String> splits(NodeArgs args) {
        Object value = args.get("splits").orElse(null);
        if (value instanceof Map<?, ?> map) {
            return map.entrySet().stream().filter(e -> e.getValue() instanceof Number).map(e -> e.getKey().toString()).toList();
        }
        return args.strings("splits");
    }

    private static DatasetName output(NodeArgs args) {
        try {
            return DatasetName.parse(args.string("output"));
        } catch (GranaryException e) {
            throw args.error("output", e.getMessage(), e.hint());
        }
    }

    @Override
    public List<String> publishes(NodeArgs args) {
        DatasetName output = output(args);
        List<String> splits = splits(args);
        if (splits.isEmpty()) {
            return List.of(output.toString());
        }
        return splits.stream().map(split -> new DatasetName(output.namespace(), output.name() + "_" + split).toString()).toList();
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg input = args.table("input");
        publishes(args).forEach(DatasetName::parse);
        if (!splits(args).isEmpty()) {
            args.requireColumn("split_column", input, args.optionalString("split_column").orElse("split"));
        }
        return List.of();
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        if (context.inProcess(input)) {
            org.apache.iceberg.Schema schema = LocalTables.schema(context.datasets(), input, List.of());
            Optional<NodeResult> local = LocalTables.plain(schema) ? inProcess(args, context, input, schema) : Optional.empty();
            if (local.isPresent()) {
                return local.get();
            }
            if (context.engine() == Engine.local) {
                throw new GranaryException("node " + args.node() + " cannot run in process: an output dataset's columns differ from the rows'",
                        "use --engine auto or spark (Spark replaces the dataset's schema too)");
            }
        }
        Dataset<Row> rows = context.read(input);
        List<String> splits = splits(args);
        List<String> targets = publishes(args);
        String splitColumn = args.optionalString("split_column").orElse("split");
        boolean keep = args.bool("keep_split_column", false);
        SparkQueries queries = new SparkQueries(context.spark(), context.datasets());
        // the datasets are written at once: each is its own Spark job and commit
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(4, targets.size()), runnable -> {
            Thread thread = new Thread(runnable, "granary-sample-write");
            thread.setDaemon(true);
            return thread;
        });
        List<java.util.concurrent.Future<WriteResult>> results = new ArrayList<>();
        try {
            for (int i = 0; i < targets.size(); i++) {
                Dataset<Row> part = rows;
                if (!splits.isEmpty()) {
                    part = rows.where(functions.col(SqlExpressions.quote(splitColumn)).equalTo(splits.get(i)));
                    if (!keep) {
                        part = part.drop(splitColumn);
                    }
                }
                DatasetName target = DatasetName.parse(targets.get(i));
                Dataset<Row> frame = part;
                io.granary.dataset.Provenance provenance = context.provenance().withInputs(args.table("input").pinnedParts());
                results.add(pool.submit(() -> context.appending() ? queries.append(target, frame, provenance)
                        : context.datasets().exists(target) ? queries.createOrReplace(target, frame, Map.of(), provenance)
                        : queries.createFrom(target, frame, List.of(), Map.of(), provenance)));
            }
            List<String> written = new ArrayList<>();
            Map<String, Object> values = new LinkedHashMap<>();
            long total = 0;
            for (int i = 0; i < targets.size(); i++) {
                WriteResult result = get(results.get(i));
                written.add(targets.get(i) + "@" + result.snapshotId());
                values.put(splits.isEmpty() ? "rows" : "rows_" + splits.get(i), result.rowsWritten());
                total += result.rowsWritten();
            }
            return new NodeResult.Published(written, total, values);
        } finally {
            pool.shutdownNow();
        }
    }

    private static WriteResult get(java.util.concurrent.Future<WriteResult> result) {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GranaryException("interrupted while writing", "run the pipeline again");
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
        }
    }

    /**
     * The same datasets written in this process, each in one commit: created, appended to, or
     * replaced whole. Empty when a dataset exists with other columns than the rows' (replacing its
     * schema is left to Spark).
     */
    private Optional<NodeResult> inProcess(NodeArgs args, RunContext context, TableArg input, org.apache.iceberg.Schema schema) {
        List<String> splits = splits(args);
        List<String> targets = publishes(args);
        String splitColumn = args.optionalString("split_column").orElse("split");
        boolean keep = args.bool("keep_split_column", false);
        List<org.apache.iceberg.types.Types.NestedField> kept = schema.columns().stream()
                .filter(field -> splits.isEmpty() || keep || !field.name().equals(splitColumn)).toList();
        org.apache.iceberg.Schema output = LocalTables.schemaOf(kept);
        for (String target : targets) {
            Optional<org.apache.iceberg.Table> existing = context.datasets().find(DatasetName.parse(target));
            if (existing.isPresent() && !sameColumns(existing.get().schema(), output)) {
                return Optional.empty();
            }
        }
        io.granary.dataset.Provenance provenance = context.provenance().withInputs(input.pinnedParts());
        List<String> written = new ArrayList<>();
        Map<String, Object> values = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < targets.size(); i++) {
            DatasetName target = DatasetName.parse(targets.get(i));
            String split = splits.isEmpty() ? null : splits.get(i);
            long[] count = {0};
            java.util.function.Function<org.apache.iceberg.Table, org.apache.iceberg.DataFile> writer = table -> LocalTables.writeFile(table,
                    org.apache.iceberg.io.CloseableIterable.transform(org.apache.iceberg.io.CloseableIterable.filter(
                            LocalTables.read(context.datasets(), input, List.of()), row -> split == null || split.equals(row.getField(splitColumn))),
                            row -> {
                                count[0]++;
                                org.apache.iceberg.data.Record out = org.apache.iceberg.data.GenericRecord.create(table.schema());
                                for (int c = 0; c < kept.size(); c++) {
                                    out.set(c, row.getField(kept.get(c).name()));
                                }
                                return out;
                            }));
            long snapshot;
            Optional<org.apache.iceberg.Table> existing = context.datasets().find(target);
            if (existing.isEmpty()) {
                snapshot = context.datasets().createFromFiles(target, output, Map.of(), table -> List.of(writer.apply(table)), provenance).snapshotId();
            } else if (context.appending()) {
                snapshot = context.datasets().appendDataFiles(target, List.of(writer.apply(existing.get())), provenance, Map.of());
            } else {
                snapshot = context.datasets().replaceDataFiles(target, List.of(writer.apply(existing.get())), provenance);
            }
            written.add(target + "@" + snapshot);
            values.put(splits.isEmpty() ? "rows" : "rows_" + split, count[0]);
            total += count[0];
        }
        return Optional.of(new NodeResult.Published(written, total, values));
    }

    /** Whether a dataset's columns are these, by name and type, in order. */
    private static boolean sameColumns(org.apache.iceberg.Schema existing, org.apache.iceberg.Schema wanted) {
        List<org.apache.iceberg.types.Types.NestedField> have = existing.columns();
        List<org.apache.iceberg.types.Types.NestedField> want = wanted.columns();
        if (have.size() != want.size()) {
            return false;
        }
        for (int i = 0; i < have.size(); i++) {
            if (!have.get(i).name().equals(want.get(i).name()) || !have.get(i).type().equals(want.get(i).type())) {
                return false;
            }
        }
        return true;
    }
}
