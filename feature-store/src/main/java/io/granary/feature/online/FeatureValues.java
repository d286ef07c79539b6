package io.granary.feature.online;

import com.google.protobuf.ByteString;
import feast.proto.types.ValueProto;
import feast.proto.types.ValueProto.Value;
import io.granary.feature.registry.ValueType;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/** Dataset values (as Iceberg's generic readers give them) as Feast protos of a feature's type. */
public final class FeatureValues {

    private static final Value NULL = Value.getDefaultInstance();

    private FeatureValues() {}

    /** The value as {@code type}; null becomes an unset Value, which Feast reads as null. */
    public static Value toValue(Object value, ValueType type) {
        if (value == null) {
            return NULL;
        }
        Value.Builder builder = Value.newBuilder();
        switch (type) {
            case INT64 -> builder.setInt64Val(((Number) value).longValue());
            case INT32 -> builder.setInt32Val(((Number) value).intValue());
            case DOUBLE -> builder.setDoubleVal(value instanceof BigDecimal d ? d.doubleValue() : ((Number) value).doubleValue());
            case FLOAT -> builder.setFloatVal(((Number) value).floatValue());
            case BOOL -> builder.setBoolVal((Boolean) value);
            case STRING -> builder.setStringVal(value.toString());
            case BYTES -> builder.setBytesVal(bytes(value));
            case UNIX_TIMESTAMP -> builder.setUnixTimestampVal(epochSeconds(value));
            case INT64_LIST -> builder.setInt64ListVal(ValueProto.Int64List.newBuilder()
                    .addAllVal(list(value).stream().map(v -> v == null ? 0L : ((Number) v).longValue()).toList()));
            case INT32_LIST -> builder.setInt32ListVal(ValueProto.Int32List.newBuilder()
                    .addAllVal(list(value).stream().map(v -> v == null ? 0 : ((Number) v).intValue()).toList()));
            case DOUBLE_LIST -> builder.setDoubleListVal(ValueProto.DoubleList.newBuilder()
                    .addAllVal(list(value).stream().map(v -> v == null ? Double.NaN : ((Number) v).doubleValue()).toList()));
            case FLOAT_LIST -> builder.setFloatListVal(ValueProto.FloatList.newBuilder()
                    .addAllVal(list(value).stream().map(v -> v == null ? Float.NaN : ((Number) v).floatValue()).toList()));
            case BOOL_LIST -> builder.setBoolListVal(ValueProto.BoolList.newBuilder()
                    .addAllVal(list(value).stream().map(v -> v != null && (Boolean) v).toList()));
            case STRING_LIST -> builder.setStringListVal(ValueProto.StringList.newBuilder()
                    .addAllVal(list(value).stream().map(v -> v == null ? "" : v.toString()).toList()));
            case BYTES_LIST -> builder.setBytesListVal(ValueProto.BytesList.newBuilder()
                    .addAllVal(list(value).stream().map(FeatureValues::bytes).toList()));
            case UNIX_TIMESTAMP_LIST -> builder.setUnixTimestampListVal(ValueProto.Int64List.newBuilder()
                    .addAllVal(list(value).stream().map(v -> v == null ? 0L : epochSeconds(v)).toList()));
        }
        return builder.build();
    }

    private static List<?> list(Object value) {
        return (List<?>) value;
    }

    private static ByteString bytes(Object value) {
        if (value instanceof ByteBuffer buffer) {
            return ByteString.copyFrom(buffer.duplicate());
        }
        return value instanceof byte[] array ? ByteString.copyFrom(array) : ByteString.EMPTY;
    }

    /** Epoch seconds of a timestamp (with or without zone: without means UTC), date, or number. */
    public static long epochSeconds(Object value) {
        if (value instanceof OffsetDateTime time) {
            return time.toEpochSecond();
        } else if (value instanceof LocalDateTime time) {
            return time.toEpochSecond(ZoneOffset.UTC);
        } else if (value instanceof LocalDate date) {
            return date.atStartOfDay(ZoneOffset.UTC).toEpochSecond();
        }
        return ((Number) value).longValue();
    }

    /** Epoch microseconds of a timestamp or date column's value. */
    public static long epochMicros(Object value) {
        if (value instanceof OffsetDateTime time) {
            return time.toEpochSecond() * 1_000_000 + time.getNano() / 1_000;
        } else if (value instanceof LocalDateTime time) {
            return time.toEpochSecond(ZoneOffset.UTC) * 1_000_000 + time.getNano() / 1_000;
        } else if (value instanceof LocalDate date) {
            return date.atStartOfDay(ZoneOffset.UTC).toEpochSecond() * 1_000_000;
        }
        throw new IllegalArgumentException("not a time: " + value);
    }
}
