package io.granary.dataset.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDate;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Infers a column's type from the values seen in it: each value's own type, merged over the
 * column (long and double make double; anything that disagrees makes string). A column with no
 * values at all becomes string. Element ids of list types are placeholders, renumbered when the
 * schema is built.
 */
final class TypeInference {

    private TypeInference() {}

    /** The type a CSV field's text suggests. */
    static Type ofText(String text) {
        if (text.isEmpty()) {
            return Types.StringType.get();
        }
        char first = text.charAt(0);
        if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.') {
            Type numeric = numericType(text);
            if (numeric != null) {
                return numeric;
            }
            if (first >= '0' && first <= '9') {
                return temporalOrString(text);
            }
            return Types.StringType.get();
        }
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Types.BooleanType.get();
        }
        if (first == '[' && text.charAt(text.length() - 1) == ']') {
            return jsonArrayType(text);
        }
        return Types.StringType.get();
    }

    /** A JSON array in a CSV field (as Granary exports lists) is a list; other bracketed text stays text. */
    private static Type jsonArrayType(String text) {
        try {
            return ofJson(ValueConversion.JSON.readTree(text));
        } catch (java.io.IOException e) {
            return Types.StringType.get();
        }
    }

    /**
     * Long, double or null. Integers with a leading zero ("007", a zip code or an id) stay text so
     * that the zeros survive.
     */
    private static Type numericType(String text) {
        int start = text.charAt(0) == '-' || text.charAt(0) == '+' ? 1 : 0;
        int n = text.length();
        if (start == n) {
            return null;
        }
        boolean integral = true;
        for (int i = start; i < n; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                integral = false;
                break;
            }
        }
        if (integral) {
            if (text.charAt(start) == '0' && n - start > 1) {
                return null;
            }
            return n - start <= 18 ? Types.LongType.get() : Types.DoubleType.get();
        }
        if (!ValueConversion.looksNumeric(text)) {
            return null;
        }
        try {
            Double.parseDouble(text);
            return Types.DoubleType.get();
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Type temporalOrString(String text) {
        LocalDate date = DateTimeText.parseDate(text);
        if (date != null) {
            return Types.DateType.get();
        }
        DateTimeText.Parsed timestamp = DateTimeText.parseTimestamp(text);
        if (timestamp != null) {
            return timestamp.hasZone() ? Types.TimestampType.withZone() : Types.TimestampType.withoutZone();
        }
        return Types.StringType.get();
    }

    /** The type a JSON value suggests; null for JSON null (no evidence). */
    static Type ofJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        } else if (node.isBoolean()) {
            return Types.BooleanType.get();
        } else if (node.isIntegralNumber()) {
            return node.canConvertToLong() ? Types.LongType.get() : Types.DoubleType.get();
        } else if (node.isNumber()) {
            return Types.DoubleType.get();
        } else if (node.isTextual()) {
            String text = node.textValue();
            return !text.isEmpty() && Character.isDigit(text.charAt(0)) ? temporalOrString(text) : Types.StringType.get();
        } else if (node.isArray()) {
            Type element = null;
            for (JsonNode item : node) {
                element = merge(element, ofJson(item));
            }
            return Types.ListType.ofOptional(0, element == null ? Types.StringType.get() : element);
        }
        return Types.StringType.get(); // objects are kept as their JSON text
    }

    /** The narrowest type holding values of both; null means "nothing seen yet". */
    static Type merge(Type seen, Type next) {
        if (seen == null) {
            return next;
        }
        if (next == null || sameType(seen, next)) {
            return seen;
        }
        Type.TypeID a = seen.typeId();
        Type.TypeID b = next.typeId();
        if ((a == Type.TypeID.LONG && b == Type.TypeID.DOUBLE) || (a == Type.TypeID.DOUBLE && b == Type.TypeID.LONG)) {
            return Types.DoubleType.get();
        }
        if (a == Type.TypeID.TIMESTAMP && b == Type.TypeID.TIMESTAMP) {
            return Types.TimestampType.withZone();
        }
        if ((a == Type.TypeID.DATE && b == Type.TypeID.TIMESTAMP) || (a == Type.TypeID.TIMESTAMP && b == Type.TypeID.DATE)) {
            return a == Type.TypeID.TIMESTAMP ? seen : next;
        }
        if (a == Type.TypeID.LIST && b == Type.TypeID.LIST) {
            return Types.ListType.ofOptional(0, merge(seen.asListType().elementType(), next.asListType().elementType()));
        }
        return Types.StringType.get();
    }

    /** Equal types, ignoring the ids of nested fields. */
    static boolean sameType(Type a, Type b) {
        if (a.isListType() && b.isListType()) {
            return sameType(a.asListType().elementType(), b.asListType().elementType());
        }
        return a.equals(b);
    }
}
