package io.granary.dataset;

import io.granary.common.GranaryException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;

/**
 * Partition specs as users write them: {@code user_id}, {@code day(event_ts)}, {@code month(ts)},
 * {@code year(ts)}, {@code hour(ts)}, {@code bucket(16, user_id)}, {@code truncate(4, name)}.
 */
public final class PartitionSpecs {

    private static final Pattern TRANSFORM = Pattern.compile("(\\w+)\\s*\\(\\s*(?:(\\d+)\\s*,\\s*)?(\\w+)\\s*\\)");
    private static final String HINT =
            "partition by a column or a transform of one: col, day(ts), hour(ts), month(ts), year(ts), bucket(16, col), truncate(4, col)";

    private PartitionSpecs() {}

    public static PartitionSpec parse(Schema schema, List<String> fields) {
        PartitionSpec.Builder builder = PartitionSpec.builderFor(schema);
        for (String text : fields) {
            String field = text.trim();
            try {
                Matcher matcher = TRANSFORM.matcher(field);
                if (field.matches("\\w+")) {
                    requireColumn(schema, field, text);
                    builder.identity(field);
                } else if (matcher.matches()) {
                    String transform = matcher.group(1).toLowerCase(java.util.Locale.ROOT);
                    String column = matcher.group(3);
                    requireColumn(schema, column, text);
                    Integer argument = matcher.group(2) == null ? null : Integer.parseInt(matcher.group(2));
                    switch (transform) {
                        case "year", "years" -> builder.year(column);
                        case "month", "months" -> builder.month(column);
                        case "day", "days" -> builder.day(column);
                        case "hour", "hours" -> builder.hour(column);
                        case "bucket" -> builder.bucket(column, requireArgument(argument, text));
                        case "truncate" -> builder.truncate(column, requireArgument(argument, text));
                        default -> throw new GranaryException("unknown partition transform '" + transform + "' in '" + text + "'", HINT);
                    }
                } else {
                    throw new GranaryException("cannot read partition field '" + text + "'", HINT);
                }
            } catch (IllegalArgumentException | org.apache.iceberg.exceptions.ValidationException e) {
                throw new GranaryException("invalid partition field '" + text + "': " + e.getMessage(),
                        "day/hour/month/year need a date or timestamp column; bucket and truncate need a number");
            }
        }
        return builder.build();
    }

    private static void requireColumn(Schema schema, String column, String text) {
        if (schema.findField(column) == null) {
            throw new GranaryException("partition field '" + text + "' names unknown column '" + column + "'",
                    "columns: " + String.join(", ", schema.columns().stream().map(f -> f.name()).toList()));
        }
    }

    private static int requireArgument(Integer argument, String text) {
        if (argument == null || argument < 1) {
            throw new GranaryException("partition field '" + text + "' needs a positive width", "e.g. bucket(16, user_id)");
        }
        return argument;
    }
}
