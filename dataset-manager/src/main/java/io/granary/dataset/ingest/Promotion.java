package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;

/**
 * Which typed values a column can store without loss: the same type, or one Iceberg widens
 * safely (int to long, float to double, a narrower decimal), and timestamps with or without zone.
 */
public final class Promotion {

    private Promotion() {}

    /** True when values of {@code from} can be written into a column of type {@code to}. */
    public static boolean canStore(Type from, Type to) {
        if (TypeInference.sameType(from, to)) {
            return true;
        }
        if (from.isListType() && to.isListType()) {
            return canStore(from.asListType().elementType(), to.asListType().elementType());
        }
        if (from.isPrimitiveType() && to.isPrimitiveType()
                && TypeUtil.isPromotionAllowed(from, to.asPrimitiveType())) {
            return true;
        }
        Type.TypeID a = from.typeId();
        Type.TypeID b = to.typeId();
        return (a == Type.TypeID.TIMESTAMP || a == Type.TypeID.TIMESTAMP_NANO) && b == Type.TypeID.TIMESTAMP
                || a == Type.TypeID.INTEGER && b == Type.TypeID.DOUBLE
                || a == Type.TypeID.LONG && b == Type.TypeID.DOUBLE;
    }

    static GranaryException mismatch(SourceFile file, String column, Type datasetType, Type fileType) {
        return new GranaryException(
                "column '" + column + "' is " + TypeNames.describe(datasetType) + " in the dataset but "
                        + TypeNames.describe(fileType) + " in " + file,
                "convert the column in the file, or write it to a new column name and pass --evolve");
    }

    /** The Java value for a column of type {@code to}, from a generic reader's value. */
    static Object promote(Object value, Type to) {
        if (value == null) {
            return null;
        }
        switch (to.typeId()) {
            case LONG:
                return value instanceof Integer i ? (Object) i.longValue() : value;
            case DOUBLE:
                return value instanceof Number n && !(value instanceof Double) ? (Object) n.doubleValue() : value;
            case TIMESTAMP:
                boolean zoned = ((org.apache.iceberg.types.Types.TimestampType) to).shouldAdjustToUTC();
                if (zoned && value instanceof LocalDateTime local) {
                    return local.atOffset(ZoneOffset.UTC);
                }
                if (!zoned && value instanceof OffsetDateTime offset) {
                    return offset.withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime();
                }
                return value;
            case LIST:
                if (value instanceof List<?> items) {
                    Type element = to.asListType().elementType();
                    List<Object> promoted = new ArrayList<>(items.size());
                    for (Object item : items) {
                        promoted.add(promote(item, element));
                    }
                    return promoted;
                }
                return value;
            default:
                return value;
        }
    }
}
