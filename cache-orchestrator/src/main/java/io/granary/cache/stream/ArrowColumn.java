package io.granary.cache.stream;

import io.granary.dataset.parquet.ColumnSink;
import java.nio.ByteBuffer;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.iceberg.types.Type;

/**
 * One column of a stream's record batch as a {@link ColumnSink}: Parquet pages decoded straight
 * into the Arrow vector's buffers (fixed-width PLAIN pages without nulls are one copy of the
 * page; strings and binaries are appended value by value). A dictionary is kept on the heap
 * ({@link #emptyLike}) and looked up into the vector.
 */
final class ArrowColumn implements ColumnSink<ArrowColumn> {

    private final Type.TypeID type;
    private final FieldVector vector;
    private final int width;
    // a dictionary's values, when this column is one: 8- and 4-byte values as their bits (doubles, floats too)
    private long[] longs;
    private int[] ints;
    private boolean[] booleans;
    private byte[][] binaries;

    /** A column writing into {@code vector}, which has room for the rows to be read. */
    ArrowColumn(Type.TypeID type, FieldVector vector) {
        this.type = type;
        this.vector = vector;
        this.width = width(type);
    }

    private ArrowColumn(Type.TypeID type, int size) {
        this.type = type;
        this.vector = null;
        this.width = width(type);
        switch (type) {
            case LONG, TIMESTAMP, DOUBLE -> longs = new long[size];
            case INTEGER, DATE, FLOAT -> ints = new int[size];
            case BOOLEAN -> booleans = new boolean[size];
            case STRING, BINARY -> binaries = new byte[size][];
            default -> throw new IllegalArgumentException("no Arrow column of " + type + " here");
        }
    }

    /** Whether values of this Iceberg type are decoded here. */
    static boolean supports(Type.TypeID type) {
        return width(type) >= 0;
    }

    private static int width(Type.TypeID type) {
        return switch (type) {
            case LONG, TIMESTAMP, DOUBLE -> 8;
            case INTEGER, DATE, FLOAT -> 4;
            case BOOLEAN, STRING, BINARY -> 0;
            default -> -1;
        };
    }

    @Override
    public ArrowColumn emptyLike(int size) {
        return new ArrowColumn(type, size);
    }

    @Override
    public void markPresent(int at, int count) {
        if (vector == null) {
            return;
        }
        ArrowBuf validity = vector.getValidityBuffer();
        int row = at;
        int end = at + count;
        // bit by bit up to a byte boundary, whole bytes of ones, then the tail bit by bit
        for (; row < end && (row & 7) != 0; row++) {
            BitVectorHelper.setBit(validity, row);
        }
        int wholeBytes = (end - row) >>> 3;
        if (wholeBytes > 0) {
            validity.setOne((long) (row >>> 3), wholeBytes);
            row += wholeBytes << 3;
        }
        for (; row < end; row++) {
            BitVectorHelper.setBit(validity, row);
        }
    }

    @Override
    public int markNulls(int at, int[] levels, int count) {
        ArrowBuf validity = vector.getValidityBuffer();
        int nulls = 0;
        int i = 0;
        for (; i < count && ((at + i) & 7) != 0; i++) {
            nulls += setValidity(validity, at + i, levels[i]);
        }
        // whole bytes of eight levels at once
        for (; i + 8 <= count; i += 8) {
            int bits = 0;
            for (int b = 0; b < 8; b++) {
                bits |= (levels[i + b] == 0 ? 0 : 1) << b;
            }
            validity.setByte((at + i) >>> 3, bits);
            nulls += 8 - Integer.bitCount(bits);
        }
        for (; i < count; i++) {
            nulls += setValidity(validity, at + i, levels[i]);
        }
        return nulls;
    }

    private static int setValidity(ArrowBuf validity, int row, int level) {
        if (level == 0) {
            BitVectorHelper.unsetBit(validity, row);
            return 1;
        }
        BitVectorHelper.setBit(validity, row);
        return 0;
    }

    @Override
    public void putPlain(int at, int count, ByteBuffer values, int nullCount) {
        if (vector == null) {
            putPlainOnHeap(count, values);
            return;
        }
        if (variableWidth()) {
            putPlainVariableWidth((BaseVariableWidthVector) vector, at, count, values, nullCount);
            return;
        }
        ArrowBuf data = vector.getDataBuffer();
        if (type == Type.TypeID.BOOLEAN) {
            int bit = 0;
            int start = values.position();
            for (int row = at; row < at + count; row++) {
                if (nullCount == 0 || isValid(row)) {
                    boolean value = (values.get(start + (bit >>> 3)) & (1 << (bit & 7))) != 0;
                    BitVectorHelper.setValidityBit(data, row, value ? 1 : 0);
                    bit++;
                }
            }
            return;
        }
        if (nullCount == 0) {
            // the page's bytes are the vector's: little-endian, fixed width
            data.setBytes((long) at * width, values.slice(values.position(), count * width));
            return;
        }
        int from = values.position();
        int value = 0;
        for (int row = at; row < at + count; row++) {
            if (isValid(row)) {
                int offset = from + value++ * width;
                if (width == 8) {
                    data.setLong((long) row * 8, values.getLong(offset));
                } else {
                    data.setInt((long) row * 4, values.getInt(offset));
                }
            }
        }
    }

    /**
     * Strings and binaries of a PLAIN page (each value: its length, 4 bytes little-endian, then its
     * bytes): the data buffer grown once for the run, then each value's bytes copied and its end
     * offset written (setSafe would check capacity, fill holes and set validity for every value).
     */
    private void putPlainVariableWidth(BaseVariableWidthVector strings, int at, int count, ByteBuffer values, int nullCount) {
        int present = count - nullCount;
        long total = 0;
        int position = values.position();
        for (int i = 0; i < present; i++) {
            int length = values.getInt(position);
            if (length < 0 || position + 4L + length > values.limit()) {
                throw new IllegalStateException("a string or binary value of " + length + " bytes runs past the end of its page in the Parquet file: the file is damaged");
            }
            total += length;
            position += 4 + length;
        }
        // offsets of rows before `at` that were never set (all null) made valid; the rows' own room was
        // there already, as marking them present or null needed it
        strings.fillEmpties(at);
        long end = strings.getStartOffset(at);
        if (end + total > Integer.MAX_VALUE) {
            throw new IllegalStateException("column " + strings.getName() + " holds more than 2 GiB of strings in one row group, more than an Arrow"
                    + " string vector holds; write the files with smaller row groups (Iceberg's write.parquet.row-group-size-bytes)");
        }
        while (strings.getDataBuffer().capacity() < end + total) {
            strings.reallocDataBuffer();
        }
        ArrowBuf offsets = strings.getOffsetBuffer();
        ArrowBuf data = strings.getDataBuffer();
        position = values.position();
        for (int row = at; row < at + count; row++) {
            if (nullCount == 0 || isValid(row)) {
                int length = values.getInt(position);
                data.setBytes(end, values, position + 4, length);
                end += length;
                position += 4 + length;
            }
            offsets.setInt((long) (row + 1) * BaseVariableWidthVector.OFFSET_WIDTH, (int) end);
        }
        strings.setLastSet(at + count - 1);
    }

    private void putPlainOnHeap(int count, ByteBuffer values) {
        int start = values.position();
        if (variableWidth()) {
            int position = start;
            for (int i = 0; i < count; i++) {
                int length = values.getInt(position);
                binaries[i] = new byte[length];
                values.get(position + 4, binaries[i]);
                position += 4 + length;
            }
            return;
        }
        for (int i = 0; i < count; i++) {
            switch (type) {
                case LONG, TIMESTAMP, DOUBLE -> longs[i] = values.getLong(start + 8 * i);
                case INTEGER, DATE, FLOAT -> ints[i] = values.getInt(start + 4 * i);
                case BOOLEAN -> booleans[i] = (values.get(start + (i >>> 3)) & (1 << (i & 7))) != 0;
                default -> throw new IllegalStateException("no values of " + type + " here");
            }
        }
    }

    @Override
    public void putDictionary(int at, int count, ArrowColumn dictionary, int[] ids, int nullCount) {
        if (variableWidth()) {
            BaseVariableWidthVector strings = (BaseVariableWidthVector) vector;
            int id = 0;
            for (int row = at; row < at + count; row++) {
                if (nullCount == 0 || isValid(row)) {
                    strings.setSafe(row, dictionary.binaries[ids[id++]]);
                }
            }
            return;
        }
        ArrowBuf data = vector.getDataBuffer();
        if (type == Type.TypeID.BOOLEAN) {
            int id = 0;
            for (int row = at; row < at + count; row++) {
                if (nullCount == 0 || isValid(row)) {
                    BitVectorHelper.setValidityBit(data, row, dictionary.booleans[ids[id++]] ? 1 : 0);
                }
            }
            return;
        }
        // one bounds check for the whole run, then plain stores (ArrowBuf checks every set)
        if (at < 0 || (long) (at + count) * width > data.capacity()) {
            throw new IndexOutOfBoundsException("rows " + at + ".." + (at + count) + " past a buffer of " + data.capacity() + " bytes");
        }
        long address = data.memoryAddress();
        int id = 0;
        if (width == 8) {
            long[] values = dictionary.longs;
            for (int row = at; row < at + count; row++) {
                if (nullCount == 0 || isValid(row)) {
                    MemoryUtil.putLong(address + (long) row * 8, values[ids[id++]]);
                }
            }
        } else {
            int[] values = dictionary.ints;
            for (int row = at; row < at + count; row++) {
                if (nullCount == 0 || isValid(row)) {
                    MemoryUtil.putInt(address + (long) row * 4, values[ids[id++]]);
                }
            }
        }
    }

    private boolean variableWidth() {
        return type == Type.TypeID.STRING || type == Type.TypeID.BINARY;
    }

    private boolean isValid(int row) {
        return BitVectorHelper.get(vector.getValidityBuffer(), row) != 0;
    }
}
