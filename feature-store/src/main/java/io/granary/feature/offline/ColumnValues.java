package io.granary.feature.offline;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import org.apache.iceberg.arrow.vectorized.ColumnVector;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * One column of a feature view held in a primitive array (no object per value), filled from
 * Arrow batches and read back as the values Iceberg's generic records take.
 */
final class ColumnValues {

    private final Type type;
    private final BitSet nulls = new BitSet();
    private long[] longs;
    private int[] ints;
    private double[] doubles;
    private float[] floats;
    private boolean[] booleans;
    private Object[] objects;

    private ColumnValues(Type type, int size) {
        this.type = type;
        switch (type.typeId()) {
            case LONG, TIMESTAMP -> longs = new long[size];
            case INTEGER, DATE -> ints = new int[size];
            case DOUBLE -> doubles = new double[size];
            case FLOAT -> floats = new float[size];
            case BOOLEAN -> booleans = new boolean[size];
            default -> objects = new Object[size];
        }
    }

    /** Whether columns of this type can be held here (others send the join to Spark). */
    static boolean supports(Type type) {
        return switch (type.typeId()) {
            case LONG, TIMESTAMP, INTEGER, DATE, DOUBLE, FLOAT, BOOLEAN, STRING, BINARY -> true;
            default -> false;
        };
    }

    static ColumnValues allocate(Type type, int size) {
        return new ColumnValues(type, size);
    }

    void set(int at, ColumnVector vector, int row) {
        if (vector.isNullAt(row)) {
            nulls.set(at);
            return;
        }
        switch (type.typeId()) {
            case LONG, TIMESTAMP -> longs[at] = vector.getLong(row);
            case INTEGER, DATE -> ints[at] = vector.getInt(row);
            case DOUBLE -> doubles[at] = vector.getDouble(row);
            case FLOAT -> floats[at] = vector.getFloat(row);
            case BOOLEAN -> booleans[at] = vector.getBoolean(row);
            case STRING -> objects[at] = vector.getString(row);
            default -> objects[at] = ByteBuffer.wrap(vector.getBinary(row));
        }
    }

    /** A new column of {@code indexes.length} values: value i is this column's value at indexes[i], or null where that is negative. */
    ColumnValues gather(int[] indexes) {
        ColumnValues out = new ColumnValues(type, indexes.length);
        for (int i = 0; i < indexes.length; i++) {
            if (indexes[i] < 0 || nulls.get(indexes[i])) {
                out.nulls.set(i);
            }
        }
        switch (type.typeId()) {
            case LONG, TIMESTAMP -> {
                for (int i = 0; i < indexes.length; i++) {
                    out.longs[i] = indexes[i] < 0 ? 0 : longs[indexes[i]];
                }
            }
            case INTEGER, DATE -> {
                for (int i = 0; i < indexes.length; i++) {
                    out.ints[i] = indexes[i] < 0 ? 0 : ints[indexes[i]];
                }
            }
            case DOUBLE -> {
                for (int i = 0; i < indexes.length; i++) {
                    out.doubles[i] = indexes[i] < 0 ? 0 : doubles[indexes[i]];
                }
            }
            case FLOAT -> {
                for (int i = 0; i < indexes.length; i++) {
                    out.floats[i] = indexes[i] < 0 ? 0 : floats[indexes[i]];
                }
            }
            case BOOLEAN -> {
                for (int i = 0; i < indexes.length; i++) {
                    out.booleans[i] = indexes[i] >= 0 && booleans[indexes[i]];
                }
            }
            default -> {
                for (int i = 0; i < indexes.length; i++) {
                    out.objects[i] = indexes[i] < 0 ? null : objects[indexes[i]];
                }
            }
        }
        return out;
    }

    Type.TypeID typeId() {
        return type.typeId();
    }

    boolean isNull(int at) {
        return nulls.get(at);
    }

    long longAt(int at) {
        return longs[at];
    }

    int intAt(int at) {
        return ints[at];
    }

    /** The value as Iceberg's generic records hold it (OffsetDateTime for timestamptz, LocalDate for date, ...). */
    Object get(int at) {
        if (nulls.get(at)) {
            return null;
        }
        return switch (type.typeId()) {
            case LONG -> longs[at];
            case TIMESTAMP -> ((Types.TimestampType) type).shouldAdjustToUTC()
                    ? OffsetDateTime.ofInstant(Instant.EPOCH.plus(longs[at], ChronoUnit.MICROS), ZoneOffset.UTC)
                    : LocalDateTime.ofInstant(Instant.EPOCH.plus(longs[at], ChronoUnit.MICROS), ZoneOffset.UTC);
            case INTEGER -> ints[at];
            case DATE -> LocalDate.ofEpochDay(ints[at]);
            case DOUBLE -> doubles[at];
            case FLOAT -> floats[at];
            case BOOLEAN -> booleans[at];
            default -> objects[at];
        };
    }
}
