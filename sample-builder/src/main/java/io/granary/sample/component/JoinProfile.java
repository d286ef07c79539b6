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
}
