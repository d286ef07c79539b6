package io.granary.dataset.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Turns text (from CSV) and JSON values into the Java values Iceberg's generic writers take for
 * a column type: Long for long, OffsetDateTime for timestamptz, List for list, and so on.
 */
final class ValueConversion {

    static final ObjectMapper JSON = new ObjectMapper();

    private ValueConversion() {}

    /** The value of {@code text} as {@code type}; null text is a null value. */
    static Object fromText(String text, Type type) throws BadValueException {
        if (text == null) {
            return null;
        }
        switch (type.typeId()) {
            case STRING:
                return text;
            case LONG:
                return parseLong(text);
            case INTEGER: {
                long value = parseLong(text);
                if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
                    throw new BadValueException("'" + text + "' does not fit in an int");
                }
                return (int) value;
            }
            case DOUBLE:
                return parseDouble(text);
            case FLOAT:
                return (float) parseDouble(text);
            case BOOLEAN:
                return parseBoolean(text);
            case DECIMAL:
                return parseDecimal(text, (Types.DecimalType) type);
            case DATE:
                return date(text.trim());
            case TIMESTAMP:
                return timestamp(text.trim(), type);
            case TIME:
                try {
                    return LocalTime.parse(text.trim());
                } catch (DateTimeParseException e) {
                    throw new BadValueException("'" + text + "' is not a time of day like 10:15:30");
                }
            case UUID:
                try {
                    return UUID.fromString(text.trim());
                } catch (IllegalArgumentException e) {
                    throw new BadValueException("'" + text + "' is not a UUID");
                }
            case BINARY:
            case FIXED:
                try {
                    byte[] bytes = Base64.getDecoder().decode(text.trim());
                    return type.typeId() == Type.TypeID.FIXED ? bytes : ByteBuffer.wrap(bytes);
                } catch (IllegalArgumentException e) {
                    throw new BadValueException("'" + abbreviate(text) + "' is not base64");
                }
            case LIST:
                try {
                    return fromJson(JSON.readTree(text), type);
                } catch (IOException e) {
                    throw new BadValueException("'" + abbreviate(text) + "' is not a JSON array like [1, 2, 3]");
                }
            default:
                throw new BadValueException("columns of type " + type + " cannot be read from text");
        }
    }

    static LocalDate date(CharSequence text) throws BadValueException {
        LocalDate date = DateTimeText.parseDate(text);
        if (date == null) {
            throw new BadValueException("'" + text + "' is not a date like 2026-11-28");
        }
        return date;
    }

    /** A timestamp column's value: OffsetDateTime with zone, LocalDateTime (in UTC) without. */
    static Object timestamp(CharSequence text, Type type) throws BadValueException {
        DateTimeText.Parsed parsed = DateTimeText.parseTimestamp(text);
        if (parsed == null) {
            LocalDate date = DateTimeText.parseDate(text);
            if (date == null) {
                throw new BadValueException("'" + abbreviate(text.toString()) + "' is not a timestamp like 2026-11-28T10:00:00Z");
            }
            parsed = new DateTimeText.Parsed(date.atStartOfDay(), null);
        }
        return ((Types.TimestampType) type).shouldAdjustToUTC() ? parsed.withZone() : parsed.inUtc();
    }

    /** The value of a JSON node as {@code type}; JSON null and missing are null. */
    static Object fromJson(JsonNode node, Type type) throws BadValueException {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        switch (type.typeId()) {
            case STRING:
                return node.isTextual() ? node.textValue() : node.toString();
            case LONG:
                if (node.isIntegralNumber() && node.canConvertToLong()) {
                    return node.longValue();
                }
                return node.isTextual() ? fromText(node.textValue(), type) : mismatch(node, type);
            case INTEGER:
                if (node.isIntegralNumber() && node.canConvertToInt()) {
                    return node.intValue();
                }
                return node.isTextual() ? fromText(node.textValue(), type) : mismatch(node, type);
            case DOUBLE:
                return node.isNumber() ? node.doubleValue() : node.isTextual() ? fromText(node.textValue(), type) : mismatch(node, type);
            case FLOAT:
                return node.isNumber() ? node.floatValue() : node.isTextual() ? fromText(node.textValue(), type) : mismatch(node, type);
            case BOOLEAN:
                return node.isBoolean() ? node.booleanValue() : node.isTextual() ? fromText(node.textValue(), type) : mismatch(node, type);
            case DECIMAL:
                return node.isNumber() ? rescale(node.decimalValue(), (Types.DecimalType) type, node.asText())
                        : node.isTextual() ? fromText(node.textValue(), type) : mismatch(node, type);
            case LIST: {
                if (!node.isArray()) {
                    return mismatch(node, type);
                }
                Type element = type.asListType().elementType();
                List<Object> values = new ArrayList<>(node.size());
                for (JsonNode item : node) {
                    values.add(fromJson(item, element));
                }
                return values;
            }
            default:
                return node.isTextual() ? fromText(node.textValue(), type) : mismatch(node, type);
        }
    }

    private static Object mismatch(JsonNode node, Type type) throws BadValueException {
        throw new BadValueException(abbreviate(node.toString()) + " (a JSON " + jsonKind(node) + ") is not a " + TypeNames.describe(type));
    }

    static String jsonKind(JsonNode node) {
        if (node.isTextual()) {
            return "string";
        } else if (node.isIntegralNumber()) {
            return "integer";
        } else if (node.isNumber()) {
            return "number";
        } else if (node.isBoolean()) {
            return "boolean";
        } else if (node.isArray()) {
            return "array";
        }
        return "object";
    }

    private static long parseLong(String text) throws BadValueException {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new BadValueException("'" + abbreviate(text) + "' is not a whole number");
        }
    }

    private static double parseDouble(String text) throws BadValueException {
        try {
            if (looksNumeric(text)) {
                return Double.parseDouble(text);
            }
            String trimmed = text.trim();
            if (looksNumeric(trimmed)) {
                return Double.parseDouble(trimmed);
            }
            return switch (trimmed.toLowerCase(Locale.ROOT)) {
                case "nan" -> Double.NaN;
                case "inf", "infinity", "+inf", "+infinity" -> Double.POSITIVE_INFINITY;
                case "-inf", "-infinity" -> Double.NEGATIVE_INFINITY;
                default -> throw new NumberFormatException(text);
            };
        } catch (NumberFormatException e) {
            throw new BadValueException("'" + abbreviate(text) + "' is not a number");
        }
    }

    private static boolean parseBoolean(String text) throws BadValueException {
        String trimmed = text.trim();
        if (trimmed.equalsIgnoreCase("true") || trimmed.equals("1")) {
            return true;
        } else if (trimmed.equalsIgnoreCase("false") || trimmed.equals("0")) {
            return false;
        }
        throw new BadValueException("'" + abbreviate(text) + "' is not true or false");
    }

    private static BigDecimal parseDecimal(String text, Types.DecimalType type) throws BadValueException {
        try {
            return rescale(new BigDecimal(text.trim()), type, text);
        } catch (NumberFormatException e) {
            throw new BadValueException("'" + abbreviate(text) + "' is not a decimal number");
        }
    }

    private static BigDecimal rescale(BigDecimal value, Types.DecimalType type, String text) throws BadValueException {
        BigDecimal scaled;
        try {
            scaled = value.setScale(type.scale(), RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            throw new BadValueException("'" + text + "' has more than " + type.scale() + " decimal places");
        }
        if (scaled.precision() > type.precision()) {
            throw new BadValueException("'" + text + "' has more than " + type.precision() + " digits");
        }
        return scaled;
    }

    /** Digits with an optional sign, point and exponent: the only text worth giving to parseDouble. */
    static boolean looksNumeric(String text) {
        int n = text.length();
        if (n == 0) {
            return false;
        }
        boolean digit = false;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                digit = true;
            } else if (c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') {
                return false;
            }
        }
        return digit;
    }

    static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 57) + "...";
    }
}
