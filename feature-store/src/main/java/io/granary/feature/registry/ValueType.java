package io.granary.feature.registry;

import io.granary.common.GranaryException;
import java.util.Arrays;
import java.util.Locale;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Feast's value types (feast.types.ValueType.Enum, same names and numbers), and which dataset
 * column types can feed each of them.
 */
public enum ValueType {
    BYTES(1), STRING(2), INT32(3), INT64(4), DOUBLE(5), FLOAT(6), BOOL(7), UNIX_TIMESTAMP(8),
    BYTES_LIST(11), STRING_LIST(12), INT32_LIST(13), INT64_LIST(14), DOUBLE_LIST(15), FLOAT_LIST(16),
    BOOL_LIST(17), UNIX_TIMESTAMP_LIST(18);

    private final int number;

    ValueType(int number) {
        this.number = number;
    }

    /** The number of this type in Feast's protos (and of its field in feast.types.Value). */
    public int number() {
        return number;
    }

    public boolean isList() {
        return name().endsWith("_LIST");
    }

    /** The scalar type of a list type; the type itself otherwise. */
    public ValueType element() {
        return isList() ? valueOf(name().substring(0, name().length() - 5)) : this;
    }

    public static ValueType parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new GranaryException("unknown value type '" + text + "'",
                    "Feast value types: " + String.join(", ", Arrays.stream(values()).map(Enum::name).toList()));
        }
    }

    /** True when values of a dataset column of {@code column} type can be served as this type. */
    public boolean accepts(Type column) {
        if (isList()) {
            return column.isListType() && element().accepts(column.asListType().elementType());
        }
        return switch (this) {
            case BYTES -> column.typeId() == Type.TypeID.BINARY || column.typeId() == Type.TypeID.FIXED;
            case STRING -> column.typeId() == Type.TypeID.STRING || column.typeId() == Type.TypeID.UUID;
            case INT32 -> column.typeId() == Type.TypeID.INTEGER;
            case INT64 -> column.typeId() == Type.TypeID.LONG || column.typeId() == Type.TypeID.INTEGER;
            case DOUBLE -> column.typeId() == Type.TypeID.DOUBLE || column.typeId() == Type.TypeID.FLOAT
                    || column.typeId() == Type.TypeID.DECIMAL;
            case FLOAT -> column.typeId() == Type.TypeID.FLOAT;
            case BOOL -> column.typeId() == Type.TypeID.BOOLEAN;
            case UNIX_TIMESTAMP -> column.typeId() == Type.TypeID.TIMESTAMP || column.typeId() == Type.TypeID.DATE
                    || column.typeId() == Type.TypeID.LONG;
            default -> false;
        };
    }

    /** The value type a dataset column is served as by default, e.g. long as INT64. */
    public static ValueType of(Type column) {
        if (column.isListType()) {
            ValueType element = of(column.asListType().elementType());
            return valueOf(element.name() + "_LIST");
        }
        return switch (column.typeId()) {
            case BINARY, FIXED -> BYTES;
            case INTEGER -> INT32;
            case LONG -> INT64;
            case DOUBLE, DECIMAL -> DOUBLE;
            case FLOAT -> FLOAT;
            case BOOLEAN -> BOOL;
            case TIMESTAMP, DATE -> UNIX_TIMESTAMP;
            default -> STRING;
        };
    }

    /** A column type that holds this value type, for describing mismatches. */
    public Type icebergType() {
        if (isList()) {
            return Types.ListType.ofOptional(1, element().icebergType());
        }
        return switch (this) {
            case BYTES -> Types.BinaryType.get();
            case STRING -> Types.StringType.get();
            case INT32 -> Types.IntegerType.get();
            case INT64 -> Types.LongType.get();
            case DOUBLE -> Types.DoubleType.get();
            case FLOAT -> Types.FloatType.get();
            case BOOL -> Types.BooleanType.get();
            default -> Types.TimestampType.withZone();
        };
    }
}
