package io.granary.feature.serving;

import com.google.protobuf.CodedOutputStream;
import feast.proto.serving.ServingAPIProto.FieldStatus;
import feast.proto.serving.ServingAPIProto.GetOnlineFeaturesResponse;
import feast.proto.types.ValueProto.Value;
import io.granary.feature.online.EncodedRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a {@link GetOnlineFeaturesResponse} straight into bytes, copying each stored value's
 * bytes (already a serialized Feast Value) as they are: no value is parsed and rebuilt on the way
 * from the store to the wire. The bytes are those protobuf itself writes for the same message
 * (fields in number order, statuses packed), so any protobuf reader, a stock Feast client
 * included, reads them as usual.
 */
final class ResponseEncoder {

    // GetOnlineFeaturesResponse: metadata = 1, results = 2, status = 3
    private static final int RESULTS_TAG = 2 << 3 | 2;
    private static final int STATUS_TAG = 3 << 3;
    // FeatureVector: values = 1, statuses = 2 (packed), event_timestamps = 3
    private static final int VALUES_TAG = 1 << 3 | 2;
    private static final int STATUSES_TAG = 2 << 3 | 2;
    private static final int EVENT_TIMESTAMPS_TAG = 3 << 3 | 2;
    /** An empty message with its length: the null Value, the unset Timestamp. */
    static final byte[] EMPTY = {0};

    /** One column of the response. */
    private interface Column {
        int size();

        void writeTo(CodedOutputStream out) throws IOException;
    }

    private final byte[] metadata;
    private final List<Column> columns = new ArrayList<>();

    /** {@code metadata}: the encoded metadata field, tag included (see {@link #metadata}). */
    ResponseEncoder(byte[] metadata) {
        this.metadata = metadata;
    }

    /** The metadata field of a response naming these columns, to encode once per request shape. */
    static byte[] metadata(List<String> names) {
        int listSize = 0;
        for (String name : names) {
            listSize += CodedOutputStream.computeStringSize(1, name);
        }
        int metadataSize = CodedOutputStream.computeTagSize(1) + CodedOutputStream.computeUInt32SizeNoTag(listSize) + listSize;
        byte[] bytes = new byte[CodedOutputStream.computeTagSize(1) + CodedOutputStream.computeUInt32SizeNoTag(metadataSize) + metadataSize];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            out.writeTag(1, 2);
            out.writeUInt32NoTag(metadataSize);
            out.writeTag(1, 2);
            out.writeUInt32NoTag(listSize);
            for (String name : names) {
                out.writeString(1, name);
            }
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes;
    }

    /** A Timestamp message with its length prefix, as it goes into a repeated field. */
    static byte[] timestamp(long epochMicros) {
        long seconds = Math.floorDiv(epochMicros, 1_000_000);
        int nanos = (int) Math.floorMod(epochMicros, 1_000_000) * 1000;
        int size = (seconds == 0 ? 0 : CodedOutputStream.computeInt64Size(1, seconds)) + (nanos == 0 ? 0 : CodedOutputStream.computeInt32Size(2, nanos));
        byte[] bytes = new byte[CodedOutputStream.computeUInt32SizeNoTag(size) + size];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            out.writeUInt32NoTag(size);
            if (seconds != 0) {
                out.writeInt64(1, seconds);
            }
            if (nanos != 0) {
                out.writeInt32(2, nanos);
            }
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes;
    }

    /** An entity key column: the request's values, each PRESENT, with no event time. */
    void entityColumn(List<Value> values) {
        columns.add(new Column() {
            @Override
            public int size() {
                int size = 0;
                for (Value value : values) {
                    size += CodedOutputStream.computeMessageSize(1, value);
                }
                return size + statusesSize(values.size()) + values.size() * 2;
            }

            @Override
            public void writeTo(CodedOutputStream out) throws IOException {
                for (Value value : values) {
                    out.writeMessage(1, value);
                }
                writeStatuses(out, values.size(), r -> FieldStatus.PRESENT_VALUE);
                for (int r = 0; r < values.size(); r++) {
                    out.writeUInt32NoTag(EVENT_TIMESTAMPS_TAG);
                    out.writeRawBytes(EMPTY);
                }
            }
        });
    }

    /**
     * A feature column: for row r, value {@code positions[r]} of {@code rows[r]}, or the null Value
     * where the position is negative, with status {@code statuses[r]} and the length-prefixed
     * Timestamp {@code times[r]}.
     */
    void featureColumn(EncodedRow[] rows, int[] positions, byte[] statuses, byte[][] times) {
        columns.add(new Column() {
            @Override
            public int size() {
                int size = statusesSize(rows.length);
                for (int r = 0; r < rows.length; r++) {
                    int position = positions[r];
                    size += 1 + (position < 0 ? 1 : rows[r].valueEnd(position) - rows[r].valueStart(position));
                    size += 1 + times[r].length;
                }
                return size;
            }

            @Override
            public void writeTo(CodedOutputStream out) throws IOException {
                for (int r = 0; r < rows.length; r++) {
                    out.writeUInt32NoTag(VALUES_TAG);
                    int position = positions[r];
                    if (position < 0) {
                        out.writeRawBytes(EMPTY);
                    } else {
                        int start = rows[r].valueStart(position);
                        out.writeRawBytes(rows[r].bytes(), start, rows[r].valueEnd(position) - start);
                    }
                }
                writeStatuses(out, rows.length, r -> statuses[r]);
                for (int r = 0; r < rows.length; r++) {
                    out.writeUInt32NoTag(EVENT_TIMESTAMPS_TAG);
                    out.writeRawBytes(times[r]);
                }
            }
        });
    }

    /** The response's bytes, with status true. */
    byte[] finish() {
        int[] sizes = new int[columns.size()];
        int total = metadata.length + CodedOutputStream.computeBoolSize(3, true);
        for (int c = 0; c < sizes.length; c++) {
            sizes[c] = columns.get(c).size();
            total += 1 + CodedOutputStream.computeUInt32SizeNoTag(sizes[c]) + sizes[c];
        }
        byte[] bytes = new byte[total];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            out.writeRawBytes(metadata);
            for (int c = 0; c < sizes.length; c++) {
                out.writeUInt32NoTag(RESULTS_TAG);
                out.writeUInt32NoTag(sizes[c]);
                columns.get(c).writeTo(out);
            }
            out.writeUInt32NoTag(STATUS_TAG);
            out.writeBoolNoTag(true);
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes;
    }

    /** Statuses are single-byte varints (1..4), packed: tag, length, one byte per row; nothing for no rows. */
    private static int statusesSize(int rows) {
        return rows == 0 ? 0 : 1 + CodedOutputStream.computeUInt32SizeNoTag(rows) + rows;
    }

    private interface StatusOfRow {
        int status(int row);
    }

    private static void writeStatuses(CodedOutputStream out, int rows, StatusOfRow status) throws IOException {
        if (rows == 0) {
            return;
        }
        out.writeUInt32NoTag(STATUSES_TAG);
        out.writeUInt32NoTag(rows);
        for (int r = 0; r < rows; r++) {
            out.writeRawByte((byte) status.status(r));
        }
    }
}
