package io.granary.feature.online;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A row as the store holds it (see {@link OnlineRow#encode}), read without parsing its values: a
 * server copies each value's bytes, already a serialized Feast {@code Value} with its length,
 * into its response as they are. Finding the values walks their length prefixes once.
 */
public final class EncodedRow {

    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Format, layout, event time, created time, sequence number, row order. */
    static final int HEADER_BYTES = 1 + 4 + 8 + 8 + 8 + 8;
    /** Format 1 rows have no write order. */
    private static final int FORMAT_1_HEADER_BYTES = 1 + 4 + 8 + 8;

    private final byte[] bytes;
    private final int headerBytes;
    private int[] starts;

    public EncodedRow(byte[] bytes) {
        this.headerBytes = bytes.length == 0 ? -1 : bytes[0] == OnlineRow.FORMAT ? HEADER_BYTES
                : bytes[0] == OnlineRow.FORMAT_WITHOUT_WRITE_ORDER ? FORMAT_1_HEADER_BYTES : -1;
        if (headerBytes < 0 || bytes.length < headerBytes) {
            throw new IllegalStateException("online row of unknown format " + (bytes.length == 0 ? "(empty)" : bytes[0]));
        }
        this.bytes = bytes;
    }

    public byte[] bytes() {
        return bytes;
    }

    public int layout() {
        return (int) INT.get(bytes, 1);
    }

    public long eventTimeMicros() {
        return (long) LONG.get(bytes, 5);
    }

    public long createdTimeMicros() {
        return (long) LONG.get(bytes, 13);
    }

    /** The data sequence number of the commit that wrote the row (0 for a row stored without one). */
    public long sequenceNumber() {
        return headerBytes == HEADER_BYTES ? (long) LONG.get(bytes, 21) : 0;
    }

    /** The row's order within its commit (0 for a row stored without one). */
    public long rowOrder() {
        return headerBytes == HEADER_BYTES ? (long) LONG.get(bytes, 29) : 0;
    }

    public int valueCount() {
        return starts().length - 1;
    }

    /** Where value {@code i} starts in {@link #bytes()}: its length prefix, then its message. */
    public int valueStart(int i) {
        return starts()[i];
    }

    /** Where value {@code i} ends (exclusive). */
    public int valueEnd(int i) {
        return starts()[i + 1];
    }

    /** True when value {@code i} is the empty message, Feast's null. */
    public boolean isNull(int i) {
        return bytes[valueStart(i)] == 0;
    }

    public OnlineRow decode() {
        return OnlineRow.decode(bytes);
    }

    private int[] starts() {
        if (starts == null) {
            int[] found = new int[16];
            int count = 0;
            int position = headerBytes;
            while (true) {
                if (count == found.length) {
                    found = Arrays.copyOf(found, count * 2);
                }
                found[count++] = position;
                if (position >= bytes.length) {
                    break;
                }
                int length = 0;
                int shift = 0;
                byte b;
                do {
                    if (position >= bytes.length || shift > 28) {
                        throw new IllegalStateException("corrupted online row: a value's length runs past the row");
                    }
                    b = bytes[position++];
                    length |= (b & 0x7f) << shift;
                    shift += 7;
                } while (b < 0);
                position += length;
                if (length < 0 || position > bytes.length) {
                    throw new IllegalStateException("corrupted online row: a value runs past the row");
                }
            }
            starts = Arrays.copyOf(found, count);
        }
        return starts;
    }
}
