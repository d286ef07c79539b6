package io.granary.feature.offline;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.iceberg.DoubleFieldMetrics;
import org.apache.iceberg.FieldMetrics;
import org.apache.iceberg.FloatFieldMetrics;
import org.apache.iceberg.arrow.vectorized.ColumnVector;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.parquet.column.statistics.BinaryStatistics;
import org.apache.parquet.column.statistics.BooleanStatistics;
import org.apache.parquet.column.statistics.DoubleStatistics;
import org.apache.parquet.column.statistics.FloatStatistics;
import org.apache.parquet.column.statistics.IntStatistics;
import org.apache.parquet.column.statistics.LongStatistics;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.io.api.Binary;

/**
 * One column of the point-in-time join held in a primitive array (no object per value): filled
 * from Arrow batches, read back as the values Iceberg's generic records take, and encoded into
 * Parquet pages for the output.
 */
final class ColumnValues implements io.granary.dataset.parquet.ColumnSink<ColumnValues> {

    private final Type type;
    private final Bits nulls;
    private long[] longs;
    private int[] ints;
    private double[] doubles;
    private float[] floats;
    private boolean[] booleans;
    private Object[] objects;

    private ColumnValues(Type type, int size) {
        this.type = type;
        this.nulls = new Bits(size);
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

    /** A column of these values, as Iceberg's generic records hold them (see {@link #get}); null is null. */
    static ColumnValues of(Type type, List<?> values) {
        ColumnValues column = new ColumnValues(type, values.size());
        for (int at = 0; at < values.size(); at++) {
            Object value = values.get(at);
            if (value == null) {
                column.nulls.set(at);
                continue;
            }
            switch (type.typeId()) {
                case LONG -> column.longs[at] = ((Number) value).longValue();
                case TIMESTAMP -> column.longs[at] = value instanceof OffsetDateTime time
                        ? ChronoUnit.MICROS.between(Instant.EPOCH, time.toInstant())
                        : ChronoUnit.MICROS.between(Instant.EPOCH, ((LocalDateTime) value).toInstant(ZoneOffset.UTC));
                case INTEGER -> column.ints[at] = ((Number) value).intValue();
                case DATE -> column.ints[at] = (int) ((LocalDate) value).toEpochDay();
                case DOUBLE -> column.doubles[at] = ((Number) value).doubleValue();
                case FLOAT -> column.floats[at] = ((Number) value).floatValue();
                case BOOLEAN -> column.booleans[at] = (Boolean) value;
                case STRING -> column.objects[at] = value.toString();
                default -> column.objects[at] = value;
            }
        }
        return column;
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

    /** An empty column of this one's type with room for {@code size} values (a dictionary's). */
    @Override
    public ColumnValues emptyLike(int size) {
        return new ColumnValues(type, size);
    }

    /** Marks rows [at, at + count) present. */
    @Override
    public void markPresent(int at, int count) {
        nulls.clear(at, at + count);
    }

    /** Marks rows [at, at + count) null where their definition level is 0, present where 1; returns how many are null. */
    @Override
    public int markNulls(int at, int[] levels, int count) {
        nulls.clear(at, at + count);
        int nullCount = 0;
        for (int i = 0; i < count; i++) {
            if (levels[i] == 0) {
                nulls.set(at + i);
                nullCount++;
            }
        }
        return nullCount;
    }

    /**
     * Puts PLAIN-encoded values (little-endian, booleans a bit each) at the present rows of
     * [at, at + count), of which {@code nullCount} are null (marked before).
     */
    @Override
    public void putPlain(int at, int count, ByteBuffer values, int nullCount) {
        if (type.typeId() == Type.TypeID.BOOLEAN) {
            int bit = 0;
            int start = values.position();
            for (int row = at; row < at + count; row++) {
                if (nullCount == 0 || !nulls.get(row)) {
                    booleans[row] = (values.get(start + (bit >>> 3)) & (1 << (bit & 7))) != 0;
                    bit++;
                }
            }
            return;
        }
        if (nullCount == 0) {
            switch (type.typeId()) {
                case LONG, TIMESTAMP -> values.asLongBuffer().get(longs, at, count);
                case INTEGER, DATE -> values.asIntBuffer().get(ints, at, count);
                case DOUBLE -> values.asDoubleBuffer().get(doubles, at, count);
                case FLOAT -> values.asFloatBuffer().get(floats, at, count);
                default -> throw new IllegalStateException("no plain values of " + type + " here");
            }
            return;
        }
        int from = values.position();
        int width = estimatedWidth();
        int value = 0;
        for (int row = at; row < at + count; row++) {
            if (!nulls.get(row)) {
                int offset = from + value++ * width;
                switch (type.typeId()) {
                    case LONG, TIMESTAMP -> longs[row] = values.getLong(offset);
                    case INTEGER, DATE -> ints[row] = values.getInt(offset);
                    case DOUBLE -> doubles[row] = values.getDouble(offset);
                    case FLOAT -> floats[row] = values.getFloat(offset);
                    default -> throw new IllegalStateException("no plain values of " + type + " here");
                }
            }
        }
    }

    /**
     * Puts dictionary values, {@code dictionary}'s value at each id of {@code ids}, at the present
     * rows of [at, at + count), of which {@code nullCount} are null (marked before).
     */
    @Override
    public void putDictionary(int at, int count, ColumnValues dictionary, int[] ids, int nullCount) {
        if (nullCount == 0) {
            // one loop a type: the common case, dictionary-encoded keys
            switch (type.typeId()) {
                case LONG, TIMESTAMP -> {
                    long[] values = dictionary.longs;
                    for (int i = 0; i < count; i++) {
                        longs[at + i] = values[ids[i]];
                    }
                    return;
                }
                case INTEGER, DATE -> {
                    int[] values = dictionary.ints;
                    for (int i = 0; i < count; i++) {
                        ints[at + i] = values[ids[i]];
                    }
                    return;
                }
                default -> {
                    // below
                }
            }
        }
        int id = 0;
        for (int row = at; row < at + count; row++) {
            if (nullCount == 0 || !nulls.get(row)) {
                int entry = ids[id++];
                switch (type.typeId()) {
                    case LONG, TIMESTAMP -> longs[row] = dictionary.longs[entry];
                    case INTEGER, DATE -> ints[row] = dictionary.ints[entry];
                    case DOUBLE -> doubles[row] = dictionary.doubles[entry];
                    case FLOAT -> floats[row] = dictionary.floats[entry];
                    case BOOLEAN -> booleans[row] = dictionary.booleans[entry];
                    default -> objects[row] = dictionary.objects[entry];
                }
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

    /** Bytes a value takes in Parquet, about: for sizing row groups and pages. */
    int estimatedWidth() {
        return width(type);
    }

    /** Bytes a value of this type takes, about, in Parquet and in memory here (a string's or binary's guessed). */
    static int width(Type type) {
        return switch (type.typeId()) {
            case LONG, TIMESTAMP, DOUBLE -> Long.BYTES;
            case INTEGER, DATE, FLOAT -> Integer.BYTES;
            case BOOLEAN -> 1;
            default -> 32;
        };
    }

    /** Adds values [from, to) to a Parquet column's statistics. */
    void addTo(Statistics<?> statistics, int from, int to) {
        int nullCount = nulls.count(from, to);
        statistics.incrementNumNulls(nullCount);
        if (nullCount == to - from) {
            return;
        }
        switch (type.typeId()) {
            case LONG, TIMESTAMP -> {
                // integers have no NaN: their smallest and largest value are all the statistics hold
                long min = Long.MAX_VALUE;
                long max = Long.MIN_VALUE;
                for (int at = nextValue(from, to); at < to; at = nextValue(at, to)) {
                    for (int end = at + runOfValues(at, to); at < end; at++) {
                        min = Math.min(min, longs[at]);
                        max = Math.max(max, longs[at]);
                    }
                }
                ((LongStatistics) statistics).updateStats(min);
                ((LongStatistics) statistics).updateStats(max);
            }
            case INTEGER, DATE -> {
                int min = Integer.MAX_VALUE;
                int max = Integer.MIN_VALUE;
                for (int at = nextValue(from, to); at < to; at = nextValue(at, to)) {
                    for (int end = at + runOfValues(at, to); at < end; at++) {
                        min = Math.min(min, ints[at]);
                        max = Math.max(max, ints[at]);
                    }
                }
                ((IntStatistics) statistics).updateStats(min);
                ((IntStatistics) statistics).updateStats(max);
            }
            case DOUBLE -> {
                // Parquet orders doubles as Double.compare does (NaN above all): the extremes are what
                // value-by-value updates would leave, found without a call a value
                int first = nextValue(from, to);
                double min = doubles[first];
                double max = doubles[first];
                for (int at = first; at < to; at = nextValue(at, to)) {
                    for (int end = at + runOfValues(at, to); at < end; at++) {
                        double value = doubles[at];
                        min = Double.compare(min, value) > 0 ? value : min;
                        max = Double.compare(max, value) < 0 ? value : max;
                    }
                }
                ((DoubleStatistics) statistics).updateStats(min);
                ((DoubleStatistics) statistics).updateStats(max);
            }
            default -> {
                for (int at = from; at < to; at++) {
                    if (!nulls.get(at)) {
                        switch (type.typeId()) {
                            case FLOAT -> ((FloatStatistics) statistics).updateStats(floats[at]);
                            case BOOLEAN -> ((BooleanStatistics) statistics).updateStats(booleans[at]);
                            default -> ((BinaryStatistics) statistics).updateStats(binary(at));
                        }
                    }
                }
            }
        }
    }

    private Binary binary(int at) {
        return type.typeId() == Type.TypeID.STRING ? Binary.fromString((String) objects[at])
                : Binary.fromConstantByteBuffer((ByteBuffer) objects[at]);
    }

    /**
     * Writes the body of a Parquet v1 data page holding values [from, to) into {@code page}: the
     * definition levels of an optional column (their length, then the run-length / bit-packed
     * hybrid; 1 set, 0 null), then the non-null values PLAIN-encoded. Returns its length.
     */
    int encodePage(ColumnarParquet.PageBuffer page, boolean optional, int from, int to) {
        byte[] levels = optional ? definitionLevels(from, to) : new byte[0];
        int present = to - from - nulls.count(from, to);
        switch (type.typeId()) {
            case LONG, TIMESTAMP, DOUBLE, INTEGER, DATE, FLOAT -> {
                byte[] out = page.atLeast(levels.length + present * estimatedWidth());
                System.arraycopy(levels, 0, out, 0, levels.length);
                ByteBuffer values = ByteBuffer.wrap(out, levels.length, present * estimatedWidth()).slice().order(ByteOrder.LITTLE_ENDIAN);
                for (int at = from; at < to; ) {
                    int run = runOfValues(at, to);
                    switch (type.typeId()) {
                        case LONG, TIMESTAMP -> values.asLongBuffer().put(longs, at, run);
                        case DOUBLE -> values.asDoubleBuffer().put(doubles, at, run);
                        case INTEGER, DATE -> values.asIntBuffer().put(ints, at, run);
                        default -> values.asFloatBuffer().put(floats, at, run);
                    }
                    values.position(values.position() + run * estimatedWidth());
                    at += run;
                    while (at < to && nulls.get(at)) {
                        at++;
                    }
                }
                return levels.length + present * estimatedWidth();
            }
            case BOOLEAN -> {
                int size = levels.length + (present + 7) / 8;
                byte[] out = page.atLeast(size);
                System.arraycopy(levels, 0, out, 0, levels.length);
                Arrays.fill(out, levels.length, size, (byte) 0);
                int bit = 0;
                for (int at = from; at < to; at++) {
                    if (!nulls.get(at)) {
                        if (booleans[at]) {
                            out[levels.length + (bit >>> 3)] |= (byte) (1 << (bit & 7));
                        }
                        bit++;
                    }
                }
                return size;
            }
            default -> {
                List<byte[]> values = new ArrayList<>(present);
                int size = levels.length;
                for (int at = from; at < to; at++) {
                    if (!nulls.get(at)) {
                        byte[] value = binary(at).getBytes();
                        values.add(value);
                        size += Integer.BYTES + value.length;
                    }
                }
                ByteBuffer out = ByteBuffer.wrap(page.atLeast(size), 0, size).order(ByteOrder.LITTLE_ENDIAN);
                out.put(levels);
                for (byte[] value : values) {
                    out.putInt(value.length).put(value);
                }
                return size;
            }
        }
    }

    /** The definition levels of values [from, to), their length first. */
    private byte[] definitionLevels(int from, int to) {
        if (nulls.nextSet(from, to) < 0) {
            // one run of ones: its header (the run length, shifted, as a varint), then the value in a byte
            byte[] run = new byte[Integer.BYTES + 10];
            int length = Integer.BYTES;
            long header = (long) (to - from) << 1;
            while ((header & ~0x7FL) != 0) {
                run[length++] = (byte) ((header & 0x7F) | 0x80);
                header >>>= 7;
            }
            run[length++] = (byte) header;
            run[length++] = 1;
            ByteBuffer.wrap(run).order(ByteOrder.LITTLE_ENDIAN).putInt(length - Integer.BYTES);
            return Arrays.copyOf(run, length);
        }
        // bit-packed runs of up to 63 groups of 8 levels (a one-byte header each), the levels of a
        // group one byte: the null bits of its rows, inverted
        int count = to - from;
        int groups = (count + 7) / 8;
        byte[] levels = new byte[Integer.BYTES + groups + (groups + 62) / 63];
        int length = Integer.BYTES;
        for (int group = 0; group < groups; ) {
            int run = Math.min(63, groups - group);
            levels[length++] = (byte) (run << 1 | 1);
            for (int end = group + run; group < end; group++) {
                int rows = Math.min(8, count - group * 8);
                levels[length++] = (byte) (~nulls.byteAt(from + group * 8) & ((1 << rows) - 1));
            }
        }
        ByteBuffer.wrap(levels).order(ByteOrder.LITTLE_ENDIAN).putInt(length - Integer.BYTES);
        return levels;
    }

    /** The first row at or after {@code at} (before {@code to}) whose value is not null, else {@code to}. */
    private int nextValue(int at, int to) {
        while (at < to && nulls.get(at)) {
            at++;
        }
        return at;
    }

    /** How many values from {@code at} on (before {@code to}) are not null. */
    private int runOfValues(int at, int to) {
        int nextNull = nulls.nextSet(at, to);
        return (nextNull < 0 ? to : nextNull) - at;
    }

    /**
     * Iceberg's metrics of floating point values [from, to), NaNs counted, as its own writers keep
     * them (which for such columns replace the counts and bounds of the Parquet footer).
     */
    Optional<FieldMetrics<?>> fieldMetrics(int fieldId, int from, int to) {
        FieldMetrics<? extends Number> values;
        if (type.typeId() == Type.TypeID.DOUBLE) {
            DoubleFieldMetrics.Builder metrics = new DoubleFieldMetrics.Builder(fieldId);
            for (int at = from; at < to; at++) {
                if (!nulls.get(at)) {
                    metrics.addValue(doubles[at]);
                }
            }
            values = metrics.build();
        } else if (type.typeId() == Type.TypeID.FLOAT) {
            FloatFieldMetrics.Builder metrics = new FloatFieldMetrics.Builder(fieldId);
            for (int at = from; at < to; at++) {
                if (!nulls.get(at)) {
                    metrics.addValue(floats[at]);
                }
            }
            values = metrics.build();
        } else {
            return Optional.empty();
        }
        long nullCount = to - from - values.valueCount();
        return Optional.of(new FieldMetrics<>(fieldId, to - from, nullCount, values.nanValueCount(), values.lowerBound(),
                values.upperBound()));
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
