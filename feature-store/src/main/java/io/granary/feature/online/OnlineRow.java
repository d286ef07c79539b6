package io.granary.feature.online;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import feast.proto.types.ValueProto.Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One entity's row of one feature view in the online store: its feature values (Feast protos; an
 * unset Value is null), in the order of its {@code layout} (the view's feature names when it was
 * written, see {@link Layouts}), the row's event time, the time it was computed, and where it was
 * written in its source: the data sequence number of its commit and its order within that commit
 * (see {@code WriteOrder}). A row is one store value, so a reader sees all of it or none of it.
 */
public record OnlineRow(int layout, long eventTimeMicros, long createdTimeMicros, long sequenceNumber, long rowOrder, List<Value> values) {

    /** Format 2 adds the write order to format 1's header; rows of format 1 read as written first of all. */
    static final byte FORMAT = 2;
    static final byte FORMAT_WITHOUT_WRITE_ORDER = 1;

    public OnlineRow {
        values = List.copyOf(values);
    }

    /** A row without a place in the write order (as if written before every other). */
    public OnlineRow(int layout, long eventTimeMicros, long createdTimeMicros, List<Value> values) {
        this(layout, eventTimeMicros, createdTimeMicros, 0, 0, values);
    }

    /**
     * True when this row should replace {@code stored}: the one answer of every engine, by event
     * time, then created time, then write order (the last written row wins a full tie).
     */
    public boolean isNewerThan(OnlineRow stored) {
        return isNewerThan(stored.eventTimeMicros, stored.createdTimeMicros, stored.sequenceNumber, stored.rowOrder);
    }

    /** The same, against a row as stored. */
    public boolean isNewerThan(EncodedRow stored) {
        return isNewerThan(stored.eventTimeMicros(), stored.createdTimeMicros(), stored.sequenceNumber(), stored.rowOrder());
    }

    private boolean isNewerThan(long event, long created, long sequence, long order) {
        if (eventTimeMicros != event) {
            return eventTimeMicros > event;
        }
        if (createdTimeMicros != created) {
            return createdTimeMicros > created;
        }
        if (sequenceNumber != sequence) {
            return sequenceNumber > sequence;
        }
        return rowOrder > order;
    }

    public byte[] encode() {
        int size = EncodedRow.HEADER_BYTES;
        for (Value value : values) {
            size += CodedOutputStream.computeMessageSizeNoTag(value);
        }
        byte[] bytes = new byte[size];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            out.writeRawByte(FORMAT);
            out.writeFixed32NoTag(layout);
            out.writeFixed64NoTag(eventTimeMicros);
            out.writeFixed64NoTag(createdTimeMicros);
            out.writeFixed64NoTag(sequenceNumber);
            out.writeFixed64NoTag(rowOrder);
            for (Value value : values) {
                out.writeMessageNoTag(value);
            }
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes;
    }

    public static OnlineRow decode(byte[] bytes) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            byte format = in.readRawByte();
            if (format != FORMAT && format != FORMAT_WITHOUT_WRITE_ORDER) {
                throw new IllegalStateException("online row of unknown format " + format);
            }
            int layout = in.readFixed32();
            long eventTime = in.readFixed64();
            long createdTime = in.readFixed64();
            long sequence = format == FORMAT ? in.readFixed64() : 0;
            long order = format == FORMAT ? in.readFixed64() : 0;
            List<Value> values = new ArrayList<>();
            while (!in.isAtEnd()) {
                int length = in.readRawVarint32();
                int limit = in.pushLimit(length);
                values.add(Value.parseFrom(in));
                in.popLimit(limit);
            }
            return new OnlineRow(layout, eventTime, createdTime, sequence, order, values);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupted online row", e);
        }
    }
}
