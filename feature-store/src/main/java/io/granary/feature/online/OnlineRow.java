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
 * written, see {@link Layouts}), the row's event time and the time it was computed. A row is one
 * store value, so a reader sees all of it or none of it.
 */
public record OnlineRow(int layout, long eventTimeMicros, long createdTimeMicros, List<Value> values) {

    static final byte FORMAT = 1;

    public OnlineRow {
        values = List.copyOf(values);
    }

    /** True when this row should replace {@code stored}: later event time, or equal and later created. */
    public boolean isNewerThan(OnlineRow stored) {
        return isNewerThan(stored.eventTimeMicros, stored.createdTimeMicros);
    }

    /** The same, against a row as stored. */
    public boolean isNewerThan(EncodedRow stored) {
        return isNewerThan(stored.eventTimeMicros(), stored.createdTimeMicros());
    }

    private boolean isNewerThan(long storedEventMicros, long storedCreatedMicros) {
        return eventTimeMicros > storedEventMicros || (eventTimeMicros == storedEventMicros && createdTimeMicros > storedCreatedMicros);
    }

    public byte[] encode() {
        int size = 1 + 4 + 16;
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
            if (format != FORMAT) {
                throw new IllegalStateException("online row of unknown format " + format);
            }
            int layout = in.readFixed32();
            long eventTime = in.readFixed64();
            long createdTime = in.readFixed64();
            List<Value> values = new ArrayList<>();
            while (!in.isAtEnd()) {
                int length = in.readRawVarint32();
                int limit = in.pushLimit(length);
                values.add(Value.parseFrom(in));
                in.popLimit(limit);
            }
            return new OnlineRow(layout, eventTime, createdTime, values);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupted online row", e);
        }
    }
}
