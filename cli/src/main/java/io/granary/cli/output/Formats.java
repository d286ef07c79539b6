package io.granary.cli.output;

import feast.proto.types.ValueProto.Value;
import io.granary.common.Sizes;
import io.granary.dataset.LineageNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** Shared formatting of numbers, times and trees for command output. */
public final class Formats {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private Formats() {}

    public static String count(long value) {
        return String.format(Locale.ROOT, "%,d", value);
    }

    public static String bytes(long value) {
        return Sizes.format(value);
    }

    public static String time(Instant instant) {
        return TIME.format(instant);
    }

    public static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.1f s", duration.toMillis() / 1000.0);
    }

    public static String rate(long units, Duration duration) {
        double seconds = Math.max(duration.toNanos() / 1e9, 1e-9);
        return String.format(Locale.ROOT, "%,.0f", units / seconds);
    }

    /** A Feast value as a table cell. */
    public static String featureValue(Value value) {
        return switch (value.getValCase()) {
            case INT64_VAL -> String.valueOf(value.getInt64Val());
            case INT32_VAL -> String.valueOf(value.getInt32Val());
            case DOUBLE_VAL -> String.valueOf(value.getDoubleVal());
            case FLOAT_VAL -> String.valueOf(value.getFloatVal());
            case BOOL_VAL -> String.valueOf(value.getBoolVal());
            case STRING_VAL -> value.getStringVal();
            case UNIX_TIMESTAMP_VAL -> Instant.ofEpochSecond(value.getUnixTimestampVal()).toString();
            case INT64_LIST_VAL -> value.getInt64ListVal().getValList().toString();
            case DOUBLE_LIST_VAL -> value.getDoubleListVal().getValList().toString();
            case STRING_LIST_VAL -> value.getStringListVal().getValList().toString();
            case FLOAT_LIST_VAL -> value.getFloatListVal().getValList().toString();
            case INT32_LIST_VAL -> value.getInt32ListVal().getValList().toString();
            case BOOL_LIST_VAL -> value.getBoolListVal().getValList().toString();
            default -> "null";
        };
    }

    /** Prints a lineage graph as an indented tree. */
    public static void tree(PrintWriter out, LineageNode root) {
        out.println(label(root));
        printChildren(out, root.upstream(), "");
        out.flush();
    }

    private static void printChildren(PrintWriter out, List<LineageNode> children, String indent) {
        for (int i = 0; i < children.size(); i++) {
            boolean last = i == children.size() - 1;
            LineageNode child = children.get(i);
            out.println(indent + (last ? "└── " : "├── ") + label(child));
            printChildren(out, child.upstream(), indent + (last ? "    " : "│   "));
        }
    }

    private static String label(LineageNode node) {
        String prefix = switch (node.kind()) {
            case DATASET -> "dataset ";
            case COMMIT -> "";
            case FILE -> "file ";
            case MISSING -> "missing ";
        };
        String name = node.name().length() > 100 ? node.name().substring(0, 97) + "..." : node.name();
        return prefix + name + (node.detail().isEmpty() ? "" : "  (" + node.detail() + ")");
    }
}
