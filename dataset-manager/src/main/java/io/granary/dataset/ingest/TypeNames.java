package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.util.Locale;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/** Column type names as users write them in schema files: Iceberg's names plus a few aliases. */
public final class TypeNames {

    public static final String VALID =
            "boolean, int, long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid, binary, list<TYPE>";

    private static final java.util.Set<Type.TypeID> SUPPORTED = java.util.EnumSet.of(
            Type.TypeID.BOOLEAN, Type.TypeID.INTEGER, Type.TypeID.LONG, Type.TypeID.FLOAT, Type.TypeID.DOUBLE,
            Type.TypeID.DECIMAL, Type.TypeID.DATE, Type.TypeID.TIME, Type.TypeID.TIMESTAMP, Type.TypeID.STRING,
            Type.TypeID.UUID, Type.TypeID.BINARY);

    private TypeNames() {}

    /** Parses "long", "decimal(10,2)", "list<string>", ...; {@code nextId} numbers list elements. */
    public static Type parse(String text, java.util.function.IntSupplier nextId) {
        String name = text.trim().toLowerCase(Locale.ROOT);
        if (name.startsWith("list<") && name.endsWith(">")) {
            Type element = parse(name.substring(5, name.length() - 1), nextId);
            return Types.ListType.ofOptional(nextId.getAsInt(), element);
        }
        switch (name) {
            case "bigint", "int64":
                return Types.LongType.get();
            case "integer", "int32":
                return Types.IntegerType.get();
            case "bool":
                return Types.BooleanType.get();
            case "float32", "real":
                return Types.FloatType.get();
            case "float64":
                return Types.DoubleType.get();
            case "str", "text", "varchar":
                return Types.StringType.get();
            case "timestamp_ntz":
                return Types.TimestampType.withoutZone();
            case "timestamp_tz", "timestamp_ltz":
                return Types.TimestampType.withZone();
            case "bytes":
                return Types.BinaryType.get();
            default:
                break;
        }
        try {
            Type.PrimitiveType type = Types.fromPrimitiveString(name);
            if (!SUPPORTED.contains(type.typeId())) {
                throw new IllegalArgumentException(name);
            }
            return type;
        } catch (IllegalArgumentException e) {
            throw new GranaryException("unknown column type '" + text + "'", "valid types: " + VALID);
        }
    }

    /** How a type reads in messages: Iceberg's own names ("long", "timestamptz", "list<string>"). */
    public static String describe(Type type) {
        if (type.isListType()) {
            return "list<" + describe(type.asListType().elementType()) + ">";
        }
        return type.toString();
    }
}
