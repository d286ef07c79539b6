package io.granary.sample.template;

import io.granary.common.GranaryException;
import io.granary.dataset.DatasetRef;
import io.granary.feature.registry.FeatureRef;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The type of a template parameter, checked against the value a config gives. */
public enum ParamType {
    STRING("text"),
    INT("a whole number"),
    DOUBLE("a number"),
    BOOLEAN("true or false"),
    LIST("a list"),
    MAP("a mapping"),
    /** A dataset ref: NS.NAME, optionally @TAG, @SNAPSHOT or @ts=TIME. */
    DATASET("a dataset, e.g. demo.clicks or demo.clicks@day1"),
    /** A column name of the table the parameter is used on. */
    COLUMN("a column name"),
    /** A list of column names. */
    COLUMNS("a list of column names"),
    /** A list of features: VIEW:FEATURE or a whole VIEW. */
    FEATURES("a list of features, e.g. [user_daily:clicks, item_daily]"),
    ANY("any value");

    private final String expected;

    ParamType(String expected) {
        this.expected = expected;
    }

    public static ParamType parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new GranaryException("unknown parameter type '" + text + "'",
                    "types: " + String.join(", ", Arrays.stream(values()).map(ParamType::toString).toList()));
        }
    }

    /** What a value of this type looks like, for messages. */
    public String expected() {
        return expected;
    }

    /**
     * The value as this type holds it (an int given where a double is expected becomes a double),
     * or an error saying what was expected.
     */
    public Object coerce(Object value) {
        switch (this) {
            case STRING, COLUMN -> {
                if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                    return value.toString();
                }
            }
            case INT -> {
                if (value instanceof Long) {
                    return value;
                }
            }
            case DOUBLE -> {
                if (value instanceof Number number) {
                    return number.doubleValue();
                }
            }
            case BOOLEAN -> {
                if (value instanceof Boolean) {
                    return value;
                }
            }
            case LIST -> {
                if (value instanceof List<?>) {
                    return value;
                }
            }
            case MAP -> {
                if (value instanceof Map<?, ?>) {
                    return value;
                }
            }
            case DATASET -> {
                if (value instanceof String text) {
                    DatasetRef.parse(text);
                    return text;
                }
            }
            case COLUMNS -> {
                if (value instanceof String text) {
                    return List.of(text);
                }
                if (value instanceof List<?> list && list.stream().allMatch(item -> item instanceof String)) {
                    return value;
                }
            }
            case FEATURES -> {
                List<?> list = value instanceof String text ? List.of(text) : value instanceof List<?> items ? items : null;
                if (list != null && list.stream().allMatch(item -> item instanceof String)) {
                    for (Object item : list) {
                        if (item.toString().contains(":")) {
                            FeatureRef.parse(item.toString());
                        }
                    }
                    return list;
                }
            }
            case ANY -> {
                return value;
            }
        }
        throw new GranaryException("expected " + expected + ", found " + describe(value), "give " + expected);
    }

    static String describe(Object value) {
        if (value == null) {
            return "nothing";
        }
        if (value instanceof List<?>) {
            return "a list";
        }
        if (value instanceof Map<?, ?>) {
            return "a mapping";
        }
        return "'" + value + "'";
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
