package io.granary.dataset;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.data.Record;

/**
 * How dataset values read as text (tables on the terminal, CSV) and as JSON: ISO-8601 times in
 * UTC, base64 bytes, lists as JSON arrays. The same forms ingest accepts, so exports re-ingest.
 */
public final class ValueText {

    private static final DateTimeFormatter UTC_TIMESTAMP = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

    private ValueText() {}

    public static String text(Object value) {
        if (value == null) {
            return "";
        } else if (value instanceof OffsetDateTime time) {
            return UTC_TIMESTAMP.format(time.withOffsetSameInstant(ZoneOffset.UTC));
        } else if (value instanceof ByteBuffer bytes) {
            return Base64.getEncoder().encodeToString(toArray(bytes));
        } else if (value instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        } else if (value instanceof List<?> || value instanceof Map<?, ?> || value instanceof Record) {
            StringBuilder json = new StringBuilder();
            appendJson(json, value);
            return json.toString();
        }
        return value.toString();
    }

    private static void appendJson(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                appendJson(out, list.get(i));
            }
            out.append(']');
        } else if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else {
            out.append('"').append(text(value).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
    }

    /** Writes a value as JSON: numbers and booleans as such, times and bytes as strings. */
    public static void writeJson(JsonGenerator json, Object value) throws IOException {
        if (value == null) {
            json.writeNull();
        } else if (value instanceof Long l) {
            json.writeNumber(l);
        } else if (value instanceof Integer i) {
            json.writeNumber(i);
        } else if (value instanceof Double d) {
            json.writeNumber(d);
        } else if (value instanceof Float f) {
            json.writeNumber(f);
        } else if (value instanceof BigDecimal decimal) {
            json.writeNumber(decimal);
        } else if (value instanceof Boolean b) {
            json.writeBoolean(b);
        } else if (value instanceof List<?> list) {
            json.writeStartArray();
            for (Object item : list) {
                writeJson(json, item);
            }
            json.writeEndArray();
        } else if (value instanceof LocalDate || value instanceof LocalDateTime || value instanceof LocalTime
                || value instanceof OffsetDateTime || value instanceof UUID || value instanceof ByteBuffer
                || value instanceof byte[] || value instanceof CharSequence) {
            json.writeString(text(value));
        } else {
            json.writeString(value.toString());
        }
    }

    private static byte[] toArray(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
