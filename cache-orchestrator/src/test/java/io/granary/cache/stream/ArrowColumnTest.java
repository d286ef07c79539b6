package io.granary.cache.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.iceberg.types.Type;
import org.junit.jupiter.api.Test;

/**
 * The column sink's bulk paths (validity set a byte at a time, dictionary values stored without a
 * bounds check per row) against what setting each row one by one gives, at every alignment.
 */
class ArrowColumnTest {

    private static final int ROWS = 300;

    @Test
    void presentAndNullRowsAtEveryAlignment() {
        Random random = new Random(3);
        try (BufferAllocator allocator = new RootAllocator(); BigIntVector vector = new BigIntVector("v", allocator)) {
            for (int at = 0; at < 17; at++) {
                for (int count : new int[] {0, 1, 7, 8, 9, 64, 133}) {
                    vector.allocateNew(ROWS);
                    vector.zeroVector();
                    ArrowColumn column = new ArrowColumn(Type.TypeID.LONG, vector);
                    column.markPresent(at, count);
                    for (int row = 0; row < ROWS; row++) {
                        assertThat(vector.isSet(row)).as("row %d after marking %d from %d present", row, count, at)
                                .isEqualTo(row >= at && row < at + count ? 1 : 0);
                    }

                    int[] levels = new int[count];
                    int expectedNulls = 0;
                    for (int i = 0; i < count; i++) {
                        levels[i] = random.nextInt(3) == 0 ? 0 : 1;
                        expectedNulls += 1 - levels[i];
                    }
                    // marked over rows that were present, so a level 0 must clear a set bit
                    assertThat(column.markNulls(at, levels, count)).isEqualTo(expectedNulls);
                    for (int i = 0; i < count; i++) {
                        assertThat(vector.isSet(at + i)).as("row %d of %d from %d", at + i, count, at).isEqualTo(levels[i]);
                    }
                    if (at > 0) {
                        assertThat(vector.isSet(at - 1)).isZero();
                    }
                    assertThat(vector.isSet(at + count)).isZero();
                }
            }
        }
    }

    @Test
    void dictionaryValuesOfEveryFixedWidthTypeWithAndWithoutNulls() {
        Random random = new Random(11);
        long[] longs = {Long.MIN_VALUE, -1, 0, 42, Long.MAX_VALUE};
        try (BufferAllocator allocator = new RootAllocator()) {
            for (int nullEvery : new int[] {0, 3}) {
                int at = 5;
                int count = 200;
                int[] levels = new int[count];
                int nulls = 0;
                for (int i = 0; i < count; i++) {
                    levels[i] = nullEvery > 0 && i % nullEvery == 0 ? 0 : 1;
                    nulls += 1 - levels[i];
                }
                int[] ids = new int[count - nulls];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = random.nextInt(longs.length);
                }
                try (BigIntVector bigints = new BigIntVector("l", allocator);
                     Float8Vector doubles = new Float8Vector("d", allocator);
                     IntVector ints = new IntVector("i", allocator);
                     Float4Vector floats = new Float4Vector("f", allocator)) {
                    fill(Type.TypeID.LONG, bigints, littleEndian(longs), at, levels, ids, nulls);
                    fill(Type.TypeID.DOUBLE, doubles, littleEndian(doublesOf(longs)), at, levels, ids, nulls);
                    fill(Type.TypeID.INTEGER, ints, littleEndianInts(longs), at, levels, ids, nulls);
                    fill(Type.TypeID.FLOAT, floats, littleEndianFloats(longs), at, levels, ids, nulls);
                    int id = 0;
                    for (int i = 0; i < count; i++) {
                        int row = at + i;
                        if (levels[i] == 0) {
                            assertThat(bigints.isNull(row)).isTrue();
                            assertThat(floats.isNull(row)).isTrue();
                            continue;
                        }
                        long expected = longs[ids[id++]];
                        assertThat(bigints.get(row)).as("row %d", row).isEqualTo(expected);
                        assertThat(doubles.get(row)).isEqualTo((double) expected);
                        assertThat(ints.get(row)).isEqualTo((int) expected);
                        assertThat(floats.get(row)).isEqualTo((float) expected);
                    }
                }
            }
        }
    }

    @Test
    void stringPagesWithNullsAfterRowsNeverSetAndPastTheFirstAllocation() {
        Random random = new Random(17);
        try (BufferAllocator allocator = new RootAllocator(); org.apache.arrow.vector.VarCharVector vector =
                new org.apache.arrow.vector.VarCharVector("s", allocator)) {
            vector.allocateNew(64, 2_200);
            ArrowColumn column = new ArrowColumn(Type.TypeID.STRING, vector);
            java.util.List<String> expected = new java.util.ArrayList<>();
            // rows 0..2 are never written (all null), then three pages (the second with nulls), each followed by null rows, of strings long enough to grow the buffer
            int at = 3;
            for (int i = 0; i < at; i++) {
                expected.add(null);
            }
            for (int page = 0; page < 3; page++) {
                int count = 700;
                int[] levels = new int[count];
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                int nulls = 0;
                for (int i = 0; i < count; i++) {
                    levels[i] = page == 1 && random.nextInt(4) == 0 ? 0 : 1;
                    if (levels[i] == 0) {
                        nulls++;
                        expected.add(null);
                        continue;
                    }
                    String value = "v" + page + "-" + i + "é".repeat(random.nextInt(12));
                    byte[] utf8 = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    bytes.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array());
                    bytes.writeBytes(utf8);
                    expected.add(value);
                }
                if (nulls == 0) {
                    column.markPresent(at, count);
                } else {
                    column.markNulls(at, levels, count);
                }
                column.putPlain(at, count, ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN), nulls);
                at += count;
                // a stretch of nulls no value is put into: the next page's offsets start after the last value
                column.markNulls(at, new int[5], 5);
                for (int i = 0; i < 5; i++) {
                    expected.add(null);
                }
                at += 5;
            }
            vector.setValueCount(at);
            for (int row = 0; row < at; row++) {
                String value = vector.isNull(row) ? null : new String(vector.get(row), java.nio.charset.StandardCharsets.UTF_8);
                assertThat(value).as("row %d", row).isEqualTo(expected.get(row));
            }

            ByteBuffer cut = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).putInt(100).putShort((short) 0).flip();
            column.markPresent(0, 1);
            assertThatThrownBy(() -> column.putPlain(0, 1, cut, 0)).hasMessageContaining("past the end of its page");
        }
    }

    @Test
    void aRunPastTheVectorIsRefusedNotWrittenOver() {
        try (BufferAllocator allocator = new RootAllocator(); BigIntVector vector = new BigIntVector("v", allocator)) {
            vector.allocateNew(16);
            ArrowColumn column = new ArrowColumn(Type.TypeID.LONG, vector);
            ArrowColumn dictionary = column.emptyLike(1);
            dictionary.putPlain(0, 1, littleEndian(new long[] {9}), 0);
            int capacity = (int) (vector.getDataBuffer().capacity() / 8);
            assertThatThrownBy(() -> column.putDictionary(capacity - 2, 4, dictionary, new int[4], 0))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    private static void fill(Type.TypeID type, ValueVector vector, ByteBuffer dictionaryValues, int at, int[] levels, int[] ids, int nulls) {
        vector.allocateNew();
        ArrowColumn column = new ArrowColumn(type, (org.apache.arrow.vector.FieldVector) vector);
        ArrowColumn dictionary = column.emptyLike(5);
        dictionary.putPlain(0, 5, dictionaryValues, 0);
        if (nulls == 0) {
            column.markPresent(at, levels.length);
        } else {
            column.markNulls(at, levels, levels.length);
        }
        column.putDictionary(at, levels.length, dictionary, ids, nulls);
    }

    private static ByteBuffer littleEndian(long[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long value : values) {
            buffer.putLong(value);
        }
        return buffer.flip();
    }

    private static long[] doublesOf(long[] values) {
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Double.doubleToRawLongBits((double) values[i]);
        }
        return bits;
    }

    private static ByteBuffer littleEndianInts(long[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (long value : values) {
            buffer.putInt((int) value);
        }
        return buffer.flip();
    }

    private static ByteBuffer littleEndianFloats(long[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (long value : values) {
            buffer.putFloat((float) value);
        }
        return buffer.flip();
    }
}
