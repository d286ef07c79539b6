package io.granary.feature.online;

import feast.proto.types.ValueProto.Value;
import io.granary.common.GranaryException;
import io.granary.feature.registry.ValueType;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Entity keys as bytes: the join key values of one entity row, in the view's entity order, each
 * written in a normal form (every integer as 8 bytes, text as UTF-8 with its length), so that a
 * key written by materialization and one built from a request compare equal.
 */
public final class EntityKeys {

    private static final byte LONG = 1;
    private static final byte STRING = 2;
    private static final byte BYTES = 3;
    private static final byte BOOL = 4;

    private EntityKeys() {}

    /** The key of values read from a dataset (Long, Integer, String, ByteBuffer, Boolean). */
    public static byte[] encode(List<?> values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * values.size());
        for (Object value : values) {
            if (value instanceof Long || value instanceof Integer) {
                out.write(LONG);
                writeLong(out, ((Number) value).longValue());
            } else if (value instanceof CharSequence text) {
                byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
                out.write(STRING);
                writeInt(out, bytes.length);
                out.writeBytes(bytes);
            } else if (value instanceof ByteBuffer buffer) {
                byte[] bytes = new byte[buffer.remaining()];
                buffer.duplicate().get(bytes);
                out.write(BYTES);
                writeInt(out, bytes.length);
                out.writeBytes(bytes);
            } else if (value instanceof Boolean bool) {
                out.write(BOOL);
                out.write(bool ? 1 : 0);
            } else {
                throw new IllegalArgumentException("cannot key on " + (value == null ? "null" : value.getClass().getSimpleName()));
            }
        }
        return out.toByteArray();
    }

    /** The values of a key made by {@link #encode}: Long, String, ByteBuffer or Boolean each. */
    public static List<Object> decode(byte[] key) {
        ByteBuffer in = ByteBuffer.wrap(key);
        List<Object> values = new java.util.ArrayList<>();
        while (in.hasRemaining()) {
            byte kind = in.get();
            switch (kind) {
                case LONG -> values.add(in.getLong());
                case STRING, BYTES -> {
                    byte[] bytes = new byte[in.getInt()];
                    in.get(bytes);
                    values.add(kind == STRING ? new String(bytes, StandardCharsets.UTF_8) : ByteBuffer.wrap(bytes));
                }
                case BOOL -> values.add(in.get() != 0);
                default -> throw new IllegalArgumentException("not an entity key: part of kind " + kind);
            }
        }
        return values;
    }

    /** A key's values as the Feast Values a request carries them in. */
    public static Value toRequestValue(Object value) {
        if (value instanceof Long number) {
            return Value.newBuilder().setInt64Val(number).build();
        } else if (value instanceof String text) {
            return Value.newBuilder().setStringVal(text).build();
        } else if (value instanceof ByteBuffer buffer) {
            return Value.newBuilder().setBytesVal(com.google.protobuf.ByteString.copyFrom(buffer.duplicate())).build();
        } else if (value instanceof Boolean bool) {
            return Value.newBuilder().setBoolVal(bool).build();
        }
        throw new IllegalArgumentException("not a key value: " + value);
    }

    /**
     * The normal-form Java value of a request's entity value, which must fit the entity's type
     * (an int32 value for an INT64 key is fine; text for a number is not).
     */
    public static Object fromRequest(String joinKey, Value value, ValueType type) {
        switch (type) {
            case INT64:
            case INT32:
                if (value.hasInt64Val()) {
                    return value.getInt64Val();
                }
                if (value.hasInt32Val()) {
                    return (long) value.getInt32Val();
                }
                break;
            case STRING:
                if (value.hasStringVal()) {
                    return value.getStringVal();
                }
                break;
            case BYTES:
                if (value.hasBytesVal()) {
                    return value.getBytesVal().asReadOnlyByteBuffer();
                }
                break;
            case BOOL:
                if (value.hasBoolVal()) {
                    return value.getBoolVal();
                }
                break;
            default:
                throw new GranaryException("entity key " + joinKey + " has type " + type + ", which cannot be a key",
                        "use an INT64, INT32, STRING, BYTES or BOOL entity");
        }
        throw new GranaryException("entity key " + joinKey + " is " + type + ", but a value in the request is "
                + (value.getValCase() == Value.ValCase.VAL_NOT_SET ? "null" : value.getValCase().name().toLowerCase(java.util.Locale.ROOT)),
                "send " + joinKey + " values as " + type);
    }

    private static void writeLong(ByteArrayOutputStream out, long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (value >>> shift));
        }
    }

    private static void writeInt(ByteArrayOutputStream out, int value) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            out.write(value >>> shift);
        }
    }
}
