package io.granary.sample.component;

import io.granary.dataset.catalog.CatalogSettings;
import io.granary.feature.offline.PointInTimeJoin;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.Table;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;

/**
 * {@code join_profile}: adds an entity's attributes (a profile dataset keyed like the input) to
 * each input row, as of the row's time when the profile has a time column: the latest profile row
 * at or before it. Several profile rows tied for a key go to the last written, as in every
 * point-in-time join. Without a profile, the input passes through.
 */
public final class JoinProfile implements Component {

    private static final String ROW = "__granary_row";
    /** The most profile rows held in this process's memory for an in-process join. */
    private static final long MAX_PROFILE_ROWS = 5_000_000;

    @Override
    public String name() {
        return "join_profile";
    }

    @Override
    public String version() {
        return "1";
    }

    @Override
    public String description() {
        return "left join of entity attributes, as of each row's time";
    }

    @Override
    public List<Argument> arguments() {
        return List.of(
                Argument.required("input", "the rows to add attributes to"),
                Argument.optional("profile", "the profile dataset (none: the input passes through)"),
                Argument.required("keys", "the columns both are keyed by, e.g. [user_id]"),
                Argument.optional("time_column", "the input's time column (needed with profile_time_column)"),
                Argument.optional("profile_time_column", "the profile's time column: each row gets the profile as of its time"),
                Argument.optional("columns", "the profile columns to add (default: all but the keys and its time column)"),
                Argument.optional("prefix", "a prefix for the added columns' names"));
    }

    @Override
    public Optional<String> notInProcess(NodeArgs args) {
        return Optional.empty();
    }

    @Override
    public boolean rowLocal(NodeArgs args) {
        return true;
    }

    @Override
    public boolean passesThrough(NodeArgs args) {
        return !args.has("profile");
    }

    @Override
    public List<Column> check(NodeArgs args, CheckContext context) {
        TableArg input = args.table("input");
        if (!args.has("profile")) {
            return input.columns();
        }
        TableArg profile = args.table("profile");
        List<String> keys = args.strings("keys");
        if (keys.isEmpty()) {
            throw args.error("keys", "no key columns given", "name the columns both tables are keyed by, e.g. [user_id]");
        }
        for (String key : keys) {
            args.requireColumn("keys", input, key);
            args.requireColumn("keys", profile, key);
        }
        Optional<String> profileTime = args.optionalString("profile_time_column");
        if (profileTime.isPresent()) {
            Column column = args.requireColumn("profile_time_column", profile, profileTime.get());
            if (!column.isTime()) {
                throw args.error("profile_time_column", profileTime.get() + " is " + column.type() + ", not a time", "name a timestamp or date column");
            }
            String time = args.optionalString("time_column").orElseThrow(() -> args.error("time_column",
                    "an as-of join needs the input's time column", "name it, e.g. time_column: ts"));
            Column timeColumn = args.requireColumn("time_column", input, time);
            if (!timeColumn.isTime()) {
                throw args.error("time_column", time + " is " + timeColumn.type() + ", not a time", "name a timestamp or date column");
            }
        }
        List<Column> output = new ArrayList<>(input.columns());
        Set<String> taken = new LinkedHashSet<>(input.columnNames());
        String prefix = args.optionalString("prefix").orElse("");
        for (String name : added(args, profile)) {
            Column column = args.requireColumn("columns", profile, name);
            if (!taken.add(prefix + name)) {
                throw args.error("columns", "the input already has a column '" + prefix + name + "'",
                        "give a prefix (prefix: profile_) or leave the column out (columns: [...])");
            }
            output.add(new Column(prefix + name, column.type()));
        }
        return output;
    }

    /** The profile columns to add. */
    private static List<String> added(NodeArgs args, TableArg profile) {
        List<String> chosen = args.strings("columns");
        if (!chosen.isEmpty()) {
            return chosen;
        }
        Set<String> skipped = new LinkedHashSet<>(args.strings("keys"));
        args.optionalString("profile_time_column").ifPresent(skipped::add);
        return profile.columnNames().stream().filter(name -> !skipped.contains(name)).toList();
    }

    @Override
    public NodeResult run(NodeArgs args, RunContext context) {
        TableArg input = args.table("input");
        TableArg profileTable = args.table("profile");
        if (!profileTable.isWhole()) {
            throw new IllegalStateException("a profile is read whole, not as " + profileTable.pinned());
        }
        List<String> keys = args.strings("keys");
        List<String> columns = added(args, profileTable);
        String prefix = args.optionalString("prefix").orElse("");
        Table table = context.datasets().load(io.granary.dataset.DatasetName.parse(profileTable.dataset()));
        if (context.inProcess(input) && LocalTables.rows(context.datasets(), profileTable) <= MAX_PROFILE_ROWS) {
            return inProcess(args, context, input, table, profileTable, keys, columns, prefix);
        }
        if (context.engine() == Engine.local) {
            throw new io.granary.common.GranaryException("node " + args.node() + " cannot run in process: its profile holds more than "
                    + MAX_PROFILE_ROWS + " rows", "use --engine auto or spark");
        }
        Dataset<Row> profile = PointInTimeJoin.inWriteOrder(context.spark(), table, CatalogSettings.NAME + "." + profileTable.dataset(),
                profileTable.snapshotId().map(table::snapshot));
        Optional<String> profileTime = args.optionalString("profile_time_column");
        List<org.apache.spark.sql.Column> picked = new ArrayList<>();
        for (String key : keys) {
            picked.add(functions.col(SqlExpressions.quote(key)).as("__granary_key_" + key));
        }
        profileTime.ifPresent(t -> picked.add(functions.col(SqlExpressions.quote(t)).cast("timestamp").as("__granary_profile_ts")));
        picked.add(functions.col(PointInTimeJoin.FILE_RANK_COLUMN));
        picked.add(functions.col(PointInTimeJoin.POSITION_COLUMN));
        for (String column : columns) {
            picked.add(functions.col(SqlExpressions.quote(column)).as(prefix + column));
        }
        profile = profile.select(picked.toArray(org.apache.spark.sql.Column[]::new));

        Dataset<Row> rows = context.read(input).withColumn(ROW, functions.monotonically_increasing_id());
        org.apache.spark.sql.Column on = functions.lit(true);
        for (String key : keys) {
            on = on.and(rows.col(SqlExpressions.quote(key)).equalTo(profile.col("__granary_key_" + key)));
        }
        if (profileTime.isPresent()) {
            on = on.and(profile.col("__granary_profile_ts").leq(rows.col(SqlExpressions.quote(args.string("time_column"))).cast("timestamp")));
        }
        Dataset<Row> joined = rows.join(profile, on, "left");
        List<org.apache.spark.sql.Column> latestFirst = new ArrayList<>();
        profileTime.ifPresent(t -> latestFirst.add(functions.col("__granary_profile_ts").desc_nulls_last()));
        latestFirst.add(functions.col(PointInTimeJoin.FILE_RANK_COLUMN).desc_nulls_last());
        latestFirst.add(functions.col(PointInTimeJoin.POSITION_COLUMN).desc_nulls_last());
        Dataset<Row> latest = joined.withColumn("__granary_rank", functions.row_number().over(Window.partitionBy(functions.col(ROW))
                        .orderBy(latestFirst.toArray(org.apache.spark.sql.Column[]::new))))
                .where(functions.col("__granary_rank").equalTo(1));
        List<org.apache.spark.sql.Column> output = new ArrayList<>();
        for (String column : input.columnNames()) {
            output.add(rows.col(SqlExpressions.quote(column)));
        }
        for (String column : columns) {
            output.add(functions.col(SqlExpressions.quote(prefix + column)));
        }
        return new NodeResult.Frame(latest.select(output.toArray(org.apache.spark.sql.Column[]::new)), Map.of());
    }

    /**
     * The same join in this process: the profile read file by file in write order into lists per key
     * (stably sorted by time, so that of rows tied on time the last written comes last), then each
     * input row takes the last entry at or before its time.
     */
    private static NodeResult inProcess(NodeArgs args, RunContext context, TableArg input, Table table, TableArg profileTable, List<String> keys,
                                        List<String> columns, String prefix) {
        Optional<String> profileTime = args.optionalString("profile_time_column");
        List<String> read = new ArrayList<>(keys);
        profileTime.ifPresent(read::add);
        columns.stream().filter(c -> !read.contains(c)).forEach(read::add);
        org.apache.iceberg.Snapshot snapshot = table.snapshot(profileTable.snapshotId().orElseThrow());
        org.apache.iceberg.Schema profileSchema = (snapshot.schemaId() == null ? table.schema()
                : table.schemas().getOrDefault(snapshot.schemaId(), table.schema())).select(read);
        Map<List<Object>, List<Object[]>> byKey = new java.util.HashMap<>();
        io.granary.dataset.WriteOrder order = io.granary.dataset.WriteOrder.of(table, Optional.of(snapshot));
        for (org.apache.iceberg.FileScanTask task : order.tasks()) {
            io.granary.dataset.DataFileRows.forEach(table, task.file(), Optional.of(task), profileSchema, row -> {
                List<Object> key = key(row, keys);
                Long time = profileTime.map(t -> row.getField(t)).map(io.granary.feature.online.FeatureValues::epochMicros).orElse(null);
                if (key == null || (profileTime.isPresent() && time == null)) {
                    return; // matches no row, as in Spark's join
                }
                Object[] entry = new Object[columns.size() + 1];
                entry[0] = time;
                for (int c = 0; c < columns.size(); c++) {
                    entry[c + 1] = row.getField(columns.get(c));
                }
                byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(entry);
            });
        }
        if (profileTime.isPresent()) {
            byKey.values().forEach(entries -> entries.sort(java.util.Comparator.comparingLong(entry -> (Long) entry[0])));
        }
        org.apache.iceberg.Schema inputSchema = LocalTables.schema(context.datasets(), input, List.of());
        List<org.apache.iceberg.types.Types.NestedField> outputColumns = new ArrayList<>(inputSchema.columns());
        for (String column : columns) {
            outputColumns.add(org.apache.iceberg.types.Types.NestedField.optional(0, prefix + column, profileSchema.findField(column).type()));
        }
        org.apache.iceberg.Schema output = LocalTables.schemaOf(outputColumns);
        org.apache.iceberg.data.GenericRecord template = org.apache.iceberg.data.GenericRecord.create(output);
        int width = inputSchema.columns().size();
        Optional<String> time = args.optionalString("time_column");
        return new NodeResult.Records(output, org.apache.iceberg.io.CloseableIterable.transform(
                LocalTables.read(context.datasets(), input, List.of()), row -> {
                    org.apache.iceberg.data.Record out = template.copy();
                    for (int i = 0; i < width; i++) {
                        out.set(i, row.get(i));
                    }
                    List<Object> key = key(row, keys);
                    List<Object[]> entries = key == null ? null : byKey.get(key);
                    Object[] match = null;
                    if (entries != null && profileTime.isEmpty()) {
                        match = entries.get(entries.size() - 1);
                    } else if (entries != null) {
                        Object at = row.getField(time.orElseThrow());
                        if (at != null) {
                            long micros = io.granary.feature.online.FeatureValues.epochMicros(at);
                            // the last entry at or before the row's time
                            int low = 0;
                            int high = entries.size();
                            while (low < high) {
                                int middle = (low + high) >>> 1;
                                if ((Long) entries.get(middle)[0] <= micros) {
                                    low = middle + 1;
                                } else {
                                    high = middle;
                                }
                            }
                            match = low == 0 ? null : entries.get(low - 1);
                        }
                    }
                    for (int c = 0; c < columns.size(); c++) {
                        out.set(width + c, match == null ? null : match[c + 1]);
                    }
                    return out;
                }), Map.of());
    }

    /** A row's key values, integers widened to long as Spark's join compares them; null when one is null (it matches nothing). */
    private static List<Object> key(org.apache.iceberg.data.Record row, List<String> keys) {
        List<Object> key = new ArrayList<>(keys.size());
        for (String name : keys) {
            Object value = row.getField(name);
            if (value == null) {
                return null;
            }
            key.add(value instanceof Integer number ? Long.valueOf(number) : value);
        }
        return key;
    }
}
