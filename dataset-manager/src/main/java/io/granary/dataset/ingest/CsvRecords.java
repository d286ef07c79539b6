package io.granary.dataset.ingest;

import io.granary.common.GranaryException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.iceberg.types.Type;

/**
 * Parses the CSV records of one chunk of bytes (RFC 4180), keeping each field as a byte range so
 * that numbers are parsed without building strings. An empty unquoted field is null; a quoted
 * empty field is the empty string. Blank lines are skipped. Not thread-safe: one per worker.
 */
final class CsvRecords {

    private static final ThreadLocal<CharsetDecoder> UTF8 = ThreadLocal.withInitial(() -> StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));

    private final byte[] data;
    private final int end;
    private final byte delimiter;
    private final SourceFile file;
    private int position;
    private long line;
    private long recordLine;
    private int fields;
    private int[] starts = new int[16];
    private int[] ends = new int[16];
    private boolean[] quoted = new boolean[16];
    private boolean[] escaped = new boolean[16];

    CsvRecords(byte[] data, int offset, int end, long firstLine, byte delimiter, SourceFile file) {
        this.data = data;
        this.position = offset;
        this.end = end;
        this.line = firstLine;
        this.delimiter = delimiter;
        this.file = file;
    }

    /** Moves to the next record; false at the end of the chunk. */
    boolean next() {
        while (position < end && (data[position] == '\n' || data[position] == '\r')) {
            if (data[position] == '\n') {
                line++;
            }
            position++;
        }
        if (position >= end) {
            return false;
        }
        recordLine = line;
        fields = 0;
        while (true) {
            if (fields == starts.length) {
                grow();
            }
            if (data[position] == '"') {
                readQuoted();
            } else {
                readUnquoted();
            }
            fields++;
            if (position < end && data[position] == delimiter) {
                position++;
                if (position >= end) {
                    addEmptyField();
                    return true;
                }
                continue;
            }
            if (position < end && data[position] == '\r') {
                position++;
            }
            if (position < end && data[position] == '\n') {
                position++;
                line++;
            }
            return true;
        }
    }

    private void addEmptyField() {
        if (fields == starts.length) {
            grow();
        }
        starts[fields] = end;
        ends[fields] = end;
        quoted[fields] = false;
        escaped[fields] = false;
        fields++;
    }

    private void readUnquoted() {
        int start = position;
        while (position < end) {
            byte b = data[position];
            if (b == delimiter || b == '\n' || b == '\r') {
                break;
            }
            if (b == '"') {
                throw new GranaryException(file + " line " + line + ": a quote inside an unquoted field",
                        "quote the whole field and double the quote inside it, e.g. \"12\"\" pipe\"");
            }
            position++;
        }
        starts[fields] = start;
        ends[fields] = position;
        quoted[fields] = false;
        escaped[fields] = false;
    }

    private void readQuoted() {
        long startLine = line;
        int start = ++position;
        boolean doubled = false;
        while (true) {
            if (position >= end) {
                throw new GranaryException(file + " line " + startLine + ": quoted field is never closed",
                        "add the closing quote; a quote inside a quoted field is written as \"\"");
            }
            byte b = data[position];
            if (b == '"') {
                if (position + 1 < end && data[position + 1] == '"') {
                    doubled = true;
                    position += 2;
                    continue;
                }
                break;
            }
            if (b == '\n') {
                line++;
            }
            position++;
        }
        starts[fields] = start;
        ends[fields] = position;
        quoted[fields] = true;
        escaped[fields] = doubled;
        position++; // closing quote
        if (position < end && data[position] != delimiter && data[position] != '\n' && data[position] != '\r') {
            throw new GranaryException(file + " line " + line + ": unexpected '" + (char) data[position] + "' after a closing quote",
                    "a quoted field ends at the next delimiter; write a literal quote as \"\" inside quotes");
        }
    }

    private void grow() {
        int size = starts.length * 2;
        starts = Arrays.copyOf(starts, size);
        ends = Arrays.copyOf(ends, size);
        quoted = Arrays.copyOf(quoted, size);
        escaped = Arrays.copyOf(escaped, size);
    }

    int fieldCount() {
        return fields;
    }

    long line() {
        return recordLine;
    }

    boolean isNull(int field) {
        return !quoted[field] && starts[field] == ends[field];
    }

    /** The field as text (null for an empty unquoted field); fails on bytes that are not UTF-8. */
    String text(int field) {
        if (isNull(field)) {
            return null;
        }
        int start = starts[field];
        int length = ends[field] - start;
        boolean ascii = true;
        for (int i = start; i < start + length; i++) {
            if (data[i] < 0) {
                ascii = false;
                break;
            }
        }
        String text;
        if (ascii) {
            text = new String(data, start, length, StandardCharsets.ISO_8859_1);
        } else {
            try {
                text = UTF8.get().decode(ByteBuffer.wrap(data, start, length)).toString();
            } catch (CharacterCodingException e) {
                throw new GranaryException(file + " line " + recordLine + ": text is not valid UTF-8",
                        "convert the file to UTF-8 (e.g. iconv -t UTF-8)", e);
            }
        }
        return escaped[field] ? text.replace("\"\"", "\"") : text;
    }

    /** The field as a long, parsed from its bytes; falls back to text for anything unusual. */
    private Object longValue(int field, Type type) throws BadValueException {
        int start = starts[field];
        int stop = ends[field];
        if (quoted[field] || stop - start > 18 || stop == start) {
            return ValueConversion.fromText(text(field), type);
        }
        boolean negative = data[start] == '-';
        int i = negative || data[start] == '+' ? start + 1 : start;
        if (i == stop) {
            return ValueConversion.fromText(text(field), type);
        }
        long value = 0;
        for (; i < stop; i++) {
            int digit = data[i] - '0';
            if (digit < 0 || digit > 9) {
                return ValueConversion.fromText(text(field), type);
            }
            value = value * 10 + digit;
        }
        return negative ? -value : value;
    }

    /**
     * The field's value for a column of {@code type}: numbers, booleans, dates and timestamps are
     * parsed from the bytes directly; everything else goes through its text.
     */
    Object value(int field, Type type) throws BadValueException {
        if (isNull(field)) {
            return null;
        }
        if (!quoted[field] && isAscii(field)) {
            switch (type.typeId()) {
                case LONG:
                    return longValue(field, type);
                case BOOLEAN: {
                    ascii.set(data, starts[field], ends[field]);
                    if (ascii.equalsIgnoreCase("true") || ascii.equalsIgnoreCase("1")) {
                        return true;
                    } else if (ascii.equalsIgnoreCase("false") || ascii.equalsIgnoreCase("0")) {
                        return false;
                    }
                    break;
                }
                case TIMESTAMP: {
                    ascii.set(data, starts[field], ends[field]);
                    DateTimeText.Parsed parsed = DateTimeText.parseTimestamp(ascii);
                    if (parsed != null) {
                        return ((org.apache.iceberg.types.Types.TimestampType) type).shouldAdjustToUTC() ? parsed.withZone() : parsed.inUtc();
                    }
                    break;
                }
                case DATE:
                    ascii.set(data, starts[field], ends[field]);
                    if (DateTimeText.parseDate(ascii) != null) {
                        return ValueConversion.date(ascii);
                    }
                    break;
                default:
                    break;
            }
        }
        return ValueConversion.fromText(text(field), type);
    }

    private boolean isAscii(int field) {
        for (int i = starts[field]; i < ends[field]; i++) {
            if (data[i] < 0) {
                return false;
            }
        }
        return true;
    }

    /** A reusable view of an ASCII byte range as characters, so parsers need no String. */
    private static final class AsciiView implements CharSequence {
        private byte[] bytes;
        private int start;
        private int length;

        void set(byte[] bytes, int start, int end) {
            this.bytes = bytes;
            this.start = start;
            this.length = end - start;
        }

        boolean equalsIgnoreCase(String text) {
            if (text.length() != length) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                if (Character.toLowerCase((char) bytes[start + i]) != text.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            return (char) bytes[start + index];
        }

        @Override
        public CharSequence subSequence(int from, int to) {
            return new String(bytes, start + from, to - from, StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return new String(bytes, start, length, StandardCharsets.ISO_8859_1);
        }
    }

    private final AsciiView ascii = new AsciiView();

    /** Values of the current record as text, for the header and for inference. */
    String[] texts() {
        String[] texts = new String[fields];
        for (int i = 0; i < fields; i++) {
            texts[i] = text(i);
        }
        return texts;
    }

    /** Where parsing stands, so the rest of a chunk can be handed on after its header. */
    int position() {
        return position;
    }

    long nextLine() {
        return line;
    }
}
