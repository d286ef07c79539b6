package io.granary.feature.offline;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.iceberg.arrow.vectorized.ColumnVector;
import org.apache.iceberg.parquet.ColumnWriter;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.parquet.io.api.Binary;

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

    /**
     * Puts a batch's {@code rows} values at positions {@code at} onwards: copied in bulk from the
     * Arrow buffer where the vector holds the values plainly (not dictionary ids), else one by one.
     */
    void append(int at, ColumnVector vector, int rows) {
        nulls.clear(at, at + rows);
        if (vector.hasNull()) {
            for (int row = 0; row < rows; row++) {
                if (vector.isNullAt(row)) {
                    nulls.set(at + row);
                }
            }
        }
        FieldVector arrow = vector.getFieldVector();
        switch (type.typeId()) {
            case LONG, TIMESTAMP -> {
                if (arrow instanceof BigIntVector || arrow instanceof TimeStampVector) {
                    littleEndian(arrow, rows, Long.BYTES).asLongBuffer().get(longs, at, rows);
                    return;
                }
            }
            case DATE -> {
                if (arrow instanceof DateDayVector) {
                    littleEndian(arrow, rows, Integer.BYTES).asIntBuffer().get(ints, at, rows);
                    return;
                }
            }
            case DOUBLE -> {
                if (arrow instanceof Float8Vector) {
                    littleEndian(arrow, rows, Double.BYTES).asDoubleBuffer().get(doubles, at, rows);
                    return;
                }
            }
            case FLOAT -> {
                if (arrow instanceof Float4Vector) {
                    littleEndian(arrow, rows, Float.BYTES).asFloatBuffer().get(floats, at, rows);
                    return;
                }
            }
            default -> {
                // integers share IntVector with dictionary ids, so they take the accessor like the rest
            }
        }
        for (int row = 0; row < rows; row++) {
            if (!nulls.get(at + row)) {
                set(at + row, vector, row);
            }
        }
    }

    private static ByteBuffer littleEndian(FieldVector vector, int rows, int width) {
        return vector.getDataBuffer().nioBuffer(0, rows * width).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void set(int at, ColumnVector vector, int row) {
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

    boolean hasNulls() {
        return !nulls.isEmpty();
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

    double doubleAt(int at) {
        return doubles[at];
    }

    float floatAt(int at) {
        return floats[at];
    }

    /** Writes the value at {@code at} to a top-level Parquet column (so a null is definition level 0). */
    void writeTo(ColumnWriter<?> column, int at) {
        if (nulls.get(at)) {
            column.writeNull(0, 0);
            return;
        }
        switch (type.typeId()) {
            case LONG, TIMESTAMP -> column.writeLong(0, longs[at]);
            case INTEGER, DATE -> column.writeInteger(0, ints[at]);
            case DOUBLE -> column.writeDouble(0, doubles[at]);
            case FLOAT -> column.writeFloat(0, floats[at]);
            case BOOLEAN -> column.writeBoolean(0, booleans[at]);
            case STRING -> column.writeBinary(0, Binary.fromString((String) objects[at]));
            default -> column.writeBinary(0, Binary.fromConstantByteBuffer((ByteBuffer) objects[at]));
        }
    }

    /** A timestamp (micros) or date (days) value as micros since the epoch. */
    long micros(int at) {
        return type.typeId() == Type.TypeID.DATE ? ints[at] * 86_400_000_000L : longs[at];
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
