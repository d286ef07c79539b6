package io.granary.sample.component;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.spark.sql.catalyst.expressions.XXH64;
import org.apache.spark.unsafe.Platform;

/**
 * Spark's {@code xxhash64} over values as Iceberg's generic records hold them, with Spark's own
 * XXH64 and its rule per type (a null leaves the hash as it was, -0.0 hashes as 0.0, a string as
 * its UTF-8 bytes, a timestamp as its microseconds): rows are sampled and split alike in this
 * process and on Spark, whichever engine a node runs on.
 */
final class SparkHash {

    /** The seed Spark's xxhash64 starts from. */
    private static final long SPARK_SEED = 42L;
    private static final double TWO_TO_53 = 9007199254740992.0;

    private SparkHash() {}

    /** Whether values of this type hash here as Spark hashes them. */
    static boolean supports(Type type) {
        return switch (type.typeId()) {
            case BOOLEAN, INTEGER, LONG, FLOAT, DOUBLE, DATE, TIMESTAMP, STRING, BINARY, FIXED, DECIMAL, UUID -> true;
            default -> false;
        };
    }

    /** {@link RowHash#uniform}: a row's columns and a seed to a place in [0, 1). */
    static double uniform(long seed, Record row, List<Types.NestedField> columns) {
        long hash = XXH64.hashLong(seed, SPARK_SEED);
        for (Types.NestedField column : columns) {
            hash = step(row.getField(column.name()), column.type(), hash);
        }
        return Math.floorMod(hash, (long) TWO_TO_53) / TWO_TO_53;
    }

    /** Spark's xxhash64 of one value (seed 42). */
    static long hash(Object value, Type type) {
        return step(value, type, SPARK_SEED);
    }

    private static long step(Object value, Type type, long hash) {
        if (value == null) {
            return hash;
        }
        return switch (type.typeId()) {
            case BOOLEAN -> XXH64.hashInt((Boolean) value ? 1 : 0, hash);
            case INTEGER -> XXH64.hashInt((Integer) value, hash);
            case LONG -> XXH64.hashLong((Long) value, hash);
            case FLOAT -> XXH64.hashInt((Float) value == -0.0f ? 0 : Float.floatToIntBits((Float) value), hash);
            case DOUBLE -> XXH64.hashLong((Double) value == -0.0d ? 0L : Double.doubleToLongBits((Double) value), hash);
            case DATE -> XXH64.hashInt((int) ((LocalDate) value).toEpochDay(), hash);
            case TIMESTAMP -> XXH64.hashLong(value instanceof OffsetDateTime time ? ChronoUnit.MICROS.between(OffsetDateTime.ofInstant(
                    java.time.Instant.EPOCH, ZoneOffset.UTC), time) : ChronoUnit.MICROS.between(LocalDateTime.of(1970, 1, 1, 0, 0),
                    (LocalDateTime) value), hash);
            case STRING, UUID -> bytes(value.toString().getBytes(StandardCharsets.UTF_8), hash);
            case BINARY, FIXED -> bytes(value instanceof ByteBuffer buffer ? toArray(buffer) : (byte[]) value, hash);
            case DECIMAL -> ((Types.DecimalType) type).precision() <= 18 ? XXH64.hashLong(((BigDecimal) value).unscaledValue().longValue(), hash)
                    : bytes(((BigDecimal) value).unscaledValue().toByteArray(), hash);
            default -> throw new IllegalArgumentException("no Spark hash here for " + type);
        };
    }

    private static long bytes(byte[] bytes, long hash) {
        return XXH64.hashUnsafeBytes(bytes, Platform.BYTE_ARRAY_OFFSET, bytes.length, hash);
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
